//! Interface flags: the
//! `SIOCGIFFLAGS`/`SIOCSIFFLAGS` ioctls on an `AF_INET` datagram socket —
//! all that bringing up loopback takes, without netlink.

use super::{Errno, Fd, Result};
use syscalls::{syscall, Sysno};

/// The interface is administratively up.
const IFF_UP: u16 = 0x1;
/// The interface is operational (the kernel keeps its own view of this bit).
const IFF_RUNNING: u16 = 0x40;

/// A close-on-exec `AF_INET` datagram socket, the handle interface ioctls need.
#[inline(never)]
fn inet_socket() -> Result<Fd> {
    const AF_INET: usize = 2;
    const SOCK_DGRAM: usize = 2;
    const SOCK_CLOEXEC: usize = 0o2_000_000;
    // SAFETY: socket takes integers only.
    unsafe { syscall!(Sysno::socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) }
        .map(|fd| Fd::from_raw(fd as i32))
}

/// `struct ifreq` with the `ifr_flags` member of its union; 40 bytes on
/// 64-bit targets (the union's largest member is `struct ifmap`, 24 bytes).
#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: u16,
    _rest: [u8; 22],
}

// The kernel copies exactly sizeof(struct ifreq) in and out.
const _: () = assert!(core::mem::size_of::<IfReq>() == 40);

impl IfReq {
    /// A request for interface `name` (shorter than IFNAMSIZ, 16).
    fn new(name: &[u8]) -> Result<IfReq> {
        let mut req = IfReq {
            name: [0; 16],
            flags: 0,
            _rest: [0; 22],
        };
        req.name
            .get_mut(..name.len())
            .filter(|_| name.len() < 16)
            .ok_or(Errno::ENAMETOOLONG)?
            .copy_from_slice(name);
        Ok(req)
    }
}

const SIOCGIFFLAGS: usize = 0x8913;
const SIOCSIFFLAGS: usize = 0x8914;

/// Bring interface `name` up (`IFF_UP | IFF_RUNNING` added to its flags)
/// unless it is up already; setting needs CAP_NET_ADMIN over its namespace.
/// One request serves both ioctls: the get fills in the flags the set keeps.
pub fn bring_up(name: &[u8]) -> Result<()> {
    let sock = inet_socket()?;
    let mut req = IfReq::new(name)?;
    let ioctl = |request: usize, req: &mut IfReq| {
        // SAFETY: SIOCGIFFLAGS and SIOCSIFFLAGS read (and the get writes) a
        // struct ifreq, which req is.
        unsafe { syscall!(Sysno::ioctl, sock.raw(), request, req as *mut IfReq) }
    };
    ioctl(SIOCGIFFLAGS, &mut req)?;
    if req.flags & IFF_UP == 0 {
        req.flags |= IFF_UP | IFF_RUNNING;
        ioctl(SIOCSIFFLAGS, &mut req)?;
    }
    Ok(())
}
