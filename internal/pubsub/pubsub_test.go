package pubsub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shipmentapp/shipmentapp/internal/pubsub"
	"github.com/shipmentapp/shipmentapp/internal/testutil"
)

// listen starts bus.Listen and returns its messages and ready signals.
func listen(t *testing.T, bus pubsub.Bus) (<-chan string, <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	msgs, ready := make(chan string, 100), make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() {
		done <- bus.Listen(ctx, func() { ready <- struct{}{} }, func(m []byte) { msgs <- string(m) })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Listen returned %v, want context.Canceled", err)
		}
	})
	return msgs, ready
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestBuses(t *testing.T) {
	buses := map[string]func(t *testing.T) (pubsub.Bus, pubsub.Bus){
		"memory": func(*testing.T) (pubsub.Bus, pubsub.Bus) { m := pubsub.NewMemory(); return m, m },
		"redis": func(t *testing.T) (pubsub.Bus, pubsub.Bus) {
			testutil.RequireRedis(t)
			channel := fmt.Sprintf("test:%d", time.Now().UnixNano())
			mk := func() pubsub.Bus {
				rdb := redis.NewClient(&redis.Options{Addr: testutil.RedisAddr()})
				t.Cleanup(func() { _ = rdb.Close() })
				return &pubsub.Redis{Client: rdb, Channel: channel, Timeout: time.Second}
			}
			return mk(), mk() // two instances
		},
	}
	for name, mk := range buses {
		t.Run(name, func(t *testing.T) {
			a, b := mk(t)
			msgsA, readyA := listen(t, a)
			msgsB, readyB := listen(t, b)
			wait(t, readyA, "ready")
			wait(t, readyB, "ready")
			for i := range 3 {
				if err := a.Publish(context.Background(), []byte(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
			}
			for _, msgs := range []<-chan string{msgsA, msgsB} {
				for i := range 3 {
					if got := wait(t, msgs, "message"); got != fmt.Sprint(i) {
						t.Fatalf("got %q, want %d", got, i)
					}
				}
			}
		})
	}
}

// TestRedisReconnects: when Redis goes away, Listen subscribes again once it
// is back and says so (ready), so the Hub reads what it missed.
func TestRedisReconnects(t *testing.T) {
	testutil.RequireRedis(t)
	proxy := testutil.NewProxy(t, testutil.RedisAddr())
	channel := fmt.Sprintf("test:%d", time.Now().UnixNano())
	sub := redis.NewClient(&redis.Options{Addr: proxy.Addr(), MaxRetries: 1})
	pub := redis.NewClient(&redis.Options{Addr: testutil.RedisAddr()})
	t.Cleanup(func() { _ = sub.Close(); _ = pub.Close() })
	bus := &pubsub.Redis{Client: sub, Channel: channel, Ping: 200 * time.Millisecond}
	msgs, ready := listen(t, bus)
	wait(t, ready, "first subscription")
	if bus.Down() {
		t.Fatal("Down before any outage")
	}
	proxy.Cut()
	time.Sleep(500 * time.Millisecond)
	if !bus.Down() {
		t.Error("not Down while Redis is cut off")
	}
	proxy.Restore()
	wait(t, ready, "subscription after the outage")
	if bus.Down() {
		t.Error("still Down after subscribing again")
	}
	if err := pub.Publish(context.Background(), channel, "after").Err(); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, msgs, "message after the outage"); got != "after" {
		t.Fatalf("got %q", got)
	}
}
