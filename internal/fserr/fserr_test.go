package fserr_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/nousresearch/hermes-service/internal/fserr"
)

func TestReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"path error", &fs.PathError{Op: "stat", Path: "/x", Err: fs.ErrPermission}, "permission denied"},
		{"other error", errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		if got := fserr.Reason(tt.err); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
