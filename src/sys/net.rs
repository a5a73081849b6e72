//! Interface flags: the
//! `SIOCGIFFLAGS`/`SIOCSIFFLAGS` ioctls on an `AF_INET` datagram socket —
//! all that bringing up loopback takes, without netlink.

use super::{Errno, Fd, Result};
use syscalls::{syscall, Sysno};

/// The interface is administratively up.
pub const IFF_UP: u16 = 0x1;
/// The interface is operational (the kernel keeps its own view of this bit).
pub const IFF_RUNNING: u16 = 0x40;

/// A close-on-exec `AF_INET` datagram socket, the handle interface ioctls need.
#[inline(never)]
pub fn inet_socket() -> Result<Fd> {
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

/// The flags of interface `name`.
pub fn interface_flags(sock: &Fd, name: &[u8]) -> Result<u16> {
    let mut req = IfReq::new(name)?;
    // SAFETY: SIOCGIFFLAGS reads and writes a struct ifreq, which req is.
    unsafe {
        syscall!(
            Sysno::ioctl,
            sock.raw(),
            SIOCGIFFLAGS,
            &mut req as *mut IfReq
        )
    }?;
    Ok(req.flags)
}

/// Set the flags of interface `name` (needs CAP_NET_ADMIN over its namespace).
pub fn set_interface_flags(sock: &Fd, name: &[u8], flags: u16) -> Result<()> {
    let mut req = IfReq::new(name)?;
    req.flags = flags;
    // SAFETY: SIOCSIFFLAGS reads a struct ifreq, which req is.
    unsafe {
        syscall!(
            Sysno::ioctl,
            sock.raw(),
            SIOCSIFFLAGS,
            &mut req as *mut IfReq
        )
    }
    .map(drop)
}
