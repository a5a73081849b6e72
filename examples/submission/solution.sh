# Assignment 1: text tools -- a student's submission.
#
#   sh solution.sh wordcount < FILE     number of words on stdin
#   sh solution.sh reverse WORD...      the words in reverse order
#   sh solution.sh fizzbuzz N           FizzBuzz from 1 to N

wordcount() {
    n=0
    while read -r line; do
        set -- $line
        n=$((n + $#))
    done
    echo "$n"
}

reverse() {
    out=""
    for w in "$@"; do
        out="$w${out:+ $out}"
    done
    echo "$out"
}

fizzbuzz() {
    i=1
    while [ "$i" -le "$1" ]; do
        # (the student's bug: multiples of 15 are caught by the test for 3)
        if [ $((i % 3)) -eq 0 ]; then
            echo Fizz
        elif [ $((i % 5)) -eq 0 ]; then
            echo Buzz
        elif [ $((i % 15)) -eq 0 ]; then
            echo FizzBuzz
        else
            echo "$i"
        fi
        i=$((i + 1))
    done
}

cmd=$1
shift
case "$cmd" in
    wordcount) wordcount ;;
    reverse) reverse "$@" ;;
    fizzbuzz) fizzbuzz "$@" ;;
    *) echo "unknown command: $cmd" >&2; exit 2 ;;
esac
