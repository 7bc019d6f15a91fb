// Command pause is the pod sandbox's process for the node tier's containerd: it holds the pod's
// namespaces open, reaps the zombies of processes that share its PID namespace, and exits on
// SIGINT or SIGTERM, as the upstream pause container does. No registry is reachable from the
// test machines, so the sandbox image is built here from this program.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if os.Getpid() != 1 {
		os.Stderr.WriteString("pause: warning: not PID 1, cannot reap zombies\n")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
