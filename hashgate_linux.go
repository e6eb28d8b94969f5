package main

import "syscall"

// lowerThreadPriority raises this OS thread's nice value by 10 (at most 19).
// On Linux the nice value belongs to a thread, so only the hashing thread
// yields: the kernel then prefers the threads serving pages.
func lowerThreadPriority() {
	tid := syscall.Gettid()
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid) // the raw syscall answers 20 − nice
	if err != nil {
		return
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(19, 20-p+10))
}
