package wait

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	boom := errors.New("boom")
	tests := map[string]struct {
		cond    func(n int32) (bool, error)
		ctx     func() (context.Context, context.CancelFunc)
		timeout time.Duration
		want    func(error) bool
	}{
		"holds at once": {cond: func(int32) (bool, error) { return true, nil },
			want: func(err error) bool { return err == nil }},
		"holds on the third look": {cond: func(n int32) (bool, error) { return n >= 3, nil },
			want: func(err error) bool { return err == nil }},
		"condition fails": {cond: func(int32) (bool, error) { return false, boom },
			want: func(err error) bool { return errors.Is(err, boom) }},
		"times out": {cond: func(int32) (bool, error) { return false, nil }, timeout: 50 * time.Millisecond,
			want: func(err error) bool {
				var te *TimeoutError
				return errors.Is(err, ErrTimeout) && errors.As(err, &te) && te.What == "x"
			}},
		"context ends": {cond: func(int32) (bool, error) { return false, nil },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 30*time.Millisecond)
			},
			want: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			var n atomic.Int32
			err := Poll{What: "x", Timeout: tt.timeout, Interval: time.Millisecond}.Until(ctx, func() (bool, error) {
				return tt.cond(n.Add(1))
			})
			if !tt.want(err) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
