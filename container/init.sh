#!/bin/sh
# warmstart-init: the image's PID 1. Usage: init.sh PROGRAM [ARG...] (the Dockerfile runs the supervisor with it).
#
# Why a PID 1 of its own: in a container the entrypoint is PID 1, and every process whose parent dies is re-parented
# to PID 1, which must wait() for it, or it stays a zombie (a process-table entry and a pid) until the container
# ends. Node cannot: libuv waits only for the pids it spawned, and Node has neither waitpid(-1) nor
# prctl(PR_SET_CHILD_SUBREAPER). The model server's own processes are orphaned this way whenever their parent dies
# first (a worker pool, a shell a custom node starts, the `sh -c` the supervisor starts the model server with).
#
# A POSIX shell does it: while `wait` blocks, dash, bash and busybox ash collect every child that exits, the
# re-parented ones included (dash: wait3(-1); bash and ash: waitpid(-1); test/slow/supervisor.test.ts checks it with the
# machine's /bin/sh as PID 1 of a PID namespace). /bin/sh is in the image already, since the
# model server is started with `/bin/sh -c "$MODEL_SERVER_CMD"`, so this needs nothing that could be missing
# (tini or dumb-init would have to be copied into every base image).
#
# Signals: PID 1 gets only the signals it handles, so SIGTERM (Cloud Run's stop) and SIGINT are trapped and passed on
# to the program, which drains and stops the model server; init then exits with the program's status. When init
# exits, the kernel kills whatever is left in the container.
sig=
child=
trap 'sig=TERM; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM
trap 'sig=INT; [ -z "$child" ] || kill -INT "$child" 2>/dev/null' INT
"$@" &
child=$!
# A signal that came before the program started.
[ -z "$sig" ] || kill -"$sig" "$child" 2>/dev/null
while :; do
  # Returns when the program exits, or early (status > 128) when a trapped signal arrives.
  wait "$child"
  status=$?
  if ! kill -0 "$child" 2>/dev/null; then
    # Gone. If a signal cut the last wait short, asking again gives the program's own status (127: already given).
    wait "$child" 2>/dev/null
    again=$?
    [ "$again" = 127 ] || status=$again
    exit "$status"
  fi
done
