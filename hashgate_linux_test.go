package main

import (
	"context"
	"syscall"
	"testing"
)

func TestHashesRunOnALowerPriorityThread(t *testing.T) {
	niceOf := func() int {
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid()) // 20 − nice
		if err != nil {
			t.Fatal(err)
		}
		return 20 - p
	}
	base := niceOf()
	g := newHashGate(1, 1<<40)
	var nice int
	g.run(context.Background(), func() error {
		nice = niceOf()
		return nil
	})
	if want := min(19, base+10); nice != want {
		t.Fatalf("the hash ran at nice %d, want %d (the process runs at %d)", nice, want, base)
	}
	// The thread went with its goroutine: the others keep their priority.
	if n := niceOf(); n != base {
		t.Fatalf("a page-serving thread is at nice %d, want %d", n, base)
	}
}
