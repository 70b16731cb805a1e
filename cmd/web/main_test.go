package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMainExitStatus builds the binary once and checks what an operator sees: one line on
// standard error and exit status 2 for a bad setting or command line, 1 for any other
// failure, 0 after a signal-driven shutdown.
func TestMainExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "relink")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		env        []string
		wantStatus int
		wantStderr string // prefix of the only line
	}{
		{name: "bad setting", env: []string{"LOG_LEVEL=verbose"}, wantStatus: 2, wantStderr: "relink: LOG_LEVEL"},
		{name: "bad setting for migrate", args: []string{"migrate"}, env: []string{"TRUSTED_PROXY_HOPS=-2"}, wantStatus: 2, wantStderr: "relink: TRUSTED_PROXY_HOPS"},
		{name: "short password for user add", args: []string{"user", "add", "--email", "a@b.test", "--role", "support"}, wantStatus: 2, wantStderr: "relink: user add: the password"},
		{name: "DATA_DIR that is a file", args: []string{"migrate"}, env: []string{"DATA_DIR=" + notADir}, wantStatus: 2, wantStderr: "relink: DATA_DIR"},
		{name: "failure that is not the operator's input", args: []string{"migrate"},
			env: []string{"DATABASE_URL=postgres://relink@127.0.0.1:1/relink?sslmode=disable&connect_timeout=2"}, wantStatus: 1, wantStderr: "relink: open database"},
		{name: "stray argument to serve", args: []string{"serve", "extra"}, wantStatus: 2, wantStderr: "relink: serve: unexpected argument"},
		{name: "stray argument to version", args: []string{"version", "extra"}, wantStatus: 2, wantStderr: "relink: version takes no arguments"},
		{name: "DATABASE_URL that does not parse", args: []string{"migrate"}, env: []string{"DATABASE_URL=postgres://relink:s3cret word@db/relink"}, wantStatus: 2, wantStderr: "relink: DATABASE_URL"},
		{name: "ADDR whose host does not resolve", env: []string{"ADDR=nosuchhost.invalid:8080"}, wantStatus: 2, wantStderr: "relink: ADDR"},
		{name: "version", args: []string{"version"}, wantStatus: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			// The binary gets exactly these settings, never the test's environment.
			cmd.Env = append([]string{"DATA_DIR=" + dataDir(t), "ADDR=127.0.0.1:0"}, tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Stdin = strings.NewReader("short\n")
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case err == nil && tt.wantStatus == 0:
			case errors.As(err, &exit) && exit.ExitCode() == tt.wantStatus:
			default:
				t.Fatalf("exit: %v, want status %d\nstderr: %s", err, tt.wantStatus, stderr.String())
			}
			if tt.wantStatus == 0 {
				if !strings.HasPrefix(stdout.String(), "relink ") || stderr.Len() != 0 {
					t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.wantStderr) || !strings.HasSuffix(stderr.String(), "\n") {
				t.Errorf("stderr is %q, want one line starting %q", stderr.String(), tt.wantStderr)
			}
			if s := stderr.String(); strings.Contains(s, "panic") || strings.Contains(s, "goroutine") {
				t.Errorf("stderr shows a crash: %s", s)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}

	t.Run("SIGTERM shuts down with status 0", func(t *testing.T) {
		addr := freeAddr(t)
		cmd := exec.Command(bin)
		cmd.Env = []string{"DATA_DIR=" + dataDir(t), "ADDR=" + addr}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("not ready within 30s; stderr:\n%s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("after SIGTERM: %v\nstderr:\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatal("still running 30s after SIGTERM")
		}
	})
}
