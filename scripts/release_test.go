// Package scripts is only the test of release.sh: in a package of its own it
// runs beside the root package's long suite and within its own time budget
// (the root package alone takes most of go test's 10 minutes on a busy
// 2-core machine).
package scripts

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The downloads: scripts/release.sh builds this platform's archive (the
// script is the one home of the release build flags, so the test runs it
// rather than repeating them), and the binary from it, copied alone into an
// empty folder, must serve the shop and the lessons from what it embeds and
// create its SQLite file there. A person without Go gets exactly this file.
// The script builds the committed HEAD, so this tests what is committed.
func TestReleaseBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release archive; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("scripts/release.sh needs bash and GNU tar")
	}
	target := runtime.GOOS + "-" + runtime.GOARCH
	dist := t.TempDir()
	script := exec.Command("bash", "release.sh", runtime.GOOS+"/"+runtime.GOARCH)
	script.Env = append(os.Environ(), "DIST="+dist)
	if out, err := script.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release.sh: %v\n%s", err, out)
	}
	archive := "sessionlab-" + target + ".tar.gz"
	checkSums(t, dist, archive)

	commitTime := strings.TrimSpace(gitOut(t, "log", "-1", "--format=%ct"))
	files := untar(t, filepath.Join(dist, archive), commitTime)
	prefix := "sessionlab-" + target + "/"
	if _, ok := files[prefix+"README.md"]; !ok {
		t.Errorf("the archive has no README.md: %v", keys(files))
	}
	bin, ok := files[prefix+"sessionlab"]
	if !ok {
		t.Fatalf("the archive has no %ssessionlab: %v", prefix, keys(files))
	}

	alone := t.TempDir()
	exe := filepath.Join(alone, "sessionlab")
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("version prints the commit", func(t *testing.T) {
		commit := strings.TrimSpace(gitOut(t, "rev-parse", "HEAD"))
		describe := strings.TrimSpace(gitOut(t, "describe", "--tags", "--always"))
		for _, arg := range []string{"version", "-version"} {
			out, err := exec.Command(exe, arg).CombinedOutput()
			if err != nil {
				t.Fatalf("sessionlab %s: %v\n%s", arg, err, out)
			}
			if !strings.Contains(string(out), "\ncommit  "+commit+"\n") || !strings.HasPrefix(string(out), "sessionlab "+describe+"\n") {
				t.Errorf("sessionlab %s printed:\n%s\nwant version %s and commit %s", arg, out, describe, commit)
			}
		}
	})

	t.Run("copied alone, it serves from what it embeds", func(t *testing.T) {
		srv := exec.Command(exe, "-addr", "127.0.0.1:0", "-instructor-token", "release-test")
		srv.Dir = alone
		// The defaults, whatever the caller's shell says.
		srv.Env = append(os.Environ(), "DATABASE_URL=", "ADDR=", "LESSONS_DIR=", "DEV=")
		stderr, err := srv.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		banner := make(chan string, 1)
		var (
			mu  sync.Mutex
			buf strings.Builder
		)
		logs := func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
		go func() {
			// The banner names the port the system chose.
			re := regexp.MustCompile(`Session Lab (\S+): open http://localhost:(\d+)`)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				mu.Lock()
				buf.WriteString(sc.Text() + "\n")
				mu.Unlock()
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					banner <- m[1] + " " + m[2]
				}
			}
			exited <- srv.Wait()
		}()
		t.Cleanup(func() {
			if srv.ProcessState == nil {
				srv.Process.Kill()
			}
		})
		var base string
		select {
		case b := <-banner:
			ver, port, _ := strings.Cut(b, " ")
			if want := strings.TrimSpace(gitOut(t, "describe", "--tags", "--always")); ver != want {
				t.Errorf("the start-up banner shows version %q, want %q", ver, want)
			}
			base = "http://127.0.0.1:" + port
		case err := <-exited:
			t.Fatalf("the binary exited at start: %v\n%s", err, logs())
		case <-time.After(60 * time.Second):
			t.Fatalf("no start-up banner within 60 s\n%s", logs())
		}

		for path, want := range map[string]string{
			"/":                     `href="/products/1"`,          // the catalog, from the embedded views
			"/lessons/http-forgets": "Every request arrives alone", // the embedded lessons
			"/static/app.css":       "{",
			"/healthz":              `"db":"sqlite"`,
		} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("GET %s: %d, want 200 with %q in:\n%.300s", path, resp.StatusCode, want, body)
			}
		}
		if _, err := os.Stat(filepath.Join(alone, "sessionlab.db")); err != nil {
			t.Errorf("sessionlab.db was not created in the folder it runs in: %v", err)
		}

		srv.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("after SIGTERM: %v (want a clean exit)\n%s", err, logs())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("still running 30 s after SIGTERM\n%s", logs())
		}
	})
}

func gitOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// checkSums checks that SHA256SUMS lists archive with its real hash.
func checkSums(t *testing.T, dist, archive string) {
	t.Helper()
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dist, archive))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]) + "  " + archive + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", sums, want)
	}
}

// untar reads a .tar.gz into memory, checking the entries carry nothing of
// the machine that built them: owner 0, the commit's time, fixed modes.
func untar(t *testing.T, path, commitTime string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || strconv.FormatInt(h.ModTime.Unix(), 10) != commitTime {
			t.Errorf("%s: uid %d gid %d mtime %d, want 0, 0 and the commit's time %s", h.Name, h.Uid, h.Gid, h.ModTime.Unix(), commitTime)
		}
		if h.Typeflag == tar.TypeReg {
			want := int64(0o644)
			if strings.HasSuffix(h.Name, "/sessionlab") {
				want = 0o755
			}
			if h.Mode != want {
				t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = b
		}
	}
	return files
}

func keys(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }
