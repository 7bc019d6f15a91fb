#!/bin/sh
# The official nginx images' entrypoint contract: when the command is nginx, run every
# executable /docker-entrypoint.d/*.sh in order (skipped when the directory is empty), then exec.
set -e
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    if find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read -r _; then
        echo "$0: Looking for shell scripts in /docker-entrypoint.d/"
        find /docker-entrypoint.d/ -follow -type f -print | sort -V | while read -r f; do
            case "$f" in
                *.sh) if [ -x "$f" ]; then echo "$0: Launching $f"; "$f"; else echo "$0: Ignoring $f, not executable"; fi ;;
                *) echo "$0: Ignoring $f" ;;
            esac
        done
        echo "$0: Configuration complete; ready for start up"
    else
        echo "$0: No files found in /docker-entrypoint.d/, skipping configuration"
    fi
fi
exec "$@"
