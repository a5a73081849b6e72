#!/bin/busybox sh
# Sample autograder for "Assignment 1: text tools", in the style of the
# graders of Coursera and PrairieLearn: it runs the student's solution from
# the submission directory, compares what it prints with the expected output,
# prints one line per test and, last, one JSON result line on stdout:
#
#   {"score": 2, "max_score": 3, "feedback": "...", "tests": [...]}
#
# Exit status: 0 when every test passes, 1 otherwise.
#
# The submission directory is /shared/submission (proctor bind-mounts it
# there, read-only) unless SUBMISSION_DIR says otherwise. Only POSIX sh and
# busybox applets are used, so the grader runs in a FROM-scratch image.

SUB=${SUBMISSION_DIR:-/shared/submission}
SOLUTION="$SUB/solution.sh"
PER_TEST_TIMEOUT=5

score=0
max_score=0
feedback=""
tests=""

# JSON string body: backslash, quote, newline, tab escaped; other control
# characters dropped.
json_escape() {
    printf '%s' "$1" | tr -d '\000-\010\013-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
        -e 's/	/\\t/g' | awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }'
}

# check NAME EXPECTED STDIN [ARG...]: run the solution with ARGs and STDIN.
check() {
    name=$1 expected=$2 input=$3
    shift 3
    max_score=$((max_score + 1))
    actual=$(printf '%s' "$input" | timeout "$PER_TEST_TIMEOUT" sh "$SOLUTION" "$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$actual" = "$expected" ]; then
        score=$((score + 1))
        passed=true
        echo "PASS $name"
    else
        passed=false
        if [ "$rc" -eq 0 ]; then echo "FAIL $name"; else echo "FAIL $name (exit status $rc)"; fi
        echo "  expected: $(printf '%s' "$expected" | tr '\n' ' ')"
        echo "  got:      $(printf '%s' "$actual" | tr '\n' ' ')"
        msg="$name: expected \"$(printf '%s' "$expected" | tr '\n' ' ')\", got \"$(printf '%s' "$actual" | tr '\n' ' ')\""
        [ "$rc" -ne 0 ] && msg="$msg (exit status $rc)"
        feedback="${feedback:+$feedback; }$msg"
    fi
    tests="${tests:+$tests, }{\"name\": \"$(json_escape "$name")\", \"passed\": $passed}"
}

echo "grader: uid $(id -u), gid $(id -g), submission in $SUB" >&2
if touch "$SUB/.grader-probe" 2>/dev/null; then
    rm -f "$SUB/.grader-probe"
    echo "grader: note: the submission directory is writable" >&2
else
    echo "grader: the submission directory is read-only" >&2
fi

if [ ! -r "$SOLUTION" ]; then
    echo "FAIL no solution.sh in the submission"
    printf '{"score": 0, "max_score": 3, "feedback": "%s", "tests": []}\n' \
        "$(json_escape "solution.sh not found in $SUB")"
    exit 1
fi

check wordcount 9 "the quick brown fox
jumps over the lazy dog
" wordcount

check reverse "three two one" "" reverse one two three

check fizzbuzz "1
2
Fizz
4
Buzz
Fizz
7
8
Fizz
Buzz
11
Fizz
13
14
FizzBuzz" "" fizzbuzz 15

if [ "$score" -eq "$max_score" ]; then
    feedback="All tests passed. Well done!"
fi
printf '{"score": %d, "max_score": %d, "feedback": "%s", "tests": [%s]}\n' \
    "$score" "$max_score" "$(json_escape "$feedback")" "$tests"
[ "$score" -eq "$max_score" ]
