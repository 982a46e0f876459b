package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Bus over one Redis pub/sub channel (on a cluster, PUBLISH
// reaches the subscribers of every node).
type Redis struct {
	Client  redis.UniversalClient
	Channel string
	// Timeout bounds a Publish.
	Timeout time.Duration
	Logger  *slog.Logger
	// Ping is how long Listen waits for a message before it checks the
	// connection with a PING (default 15 s); a dead connection is replaced
	// and the channel subscribed again.
	Ping time.Duration

	lost atomic.Bool // Listen lost its subscription and has not subscribed again
}

// Down reports whether Listen has lost its subscription to Redis and not
// made it again: notes from other instances are missed meanwhile (see Bus).
func (r *Redis) Down() bool { return r.lost.Load() }

// Publish implements Bus.
func (r *Redis) Publish(ctx context.Context, msg []byte) error {
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	if err := r.Client.Publish(ctx, r.Channel, msg).Err(); err != nil {
		return fmt.Errorf("publish to redis channel %s: %w", r.Channel, err)
	}
	return nil
}

// Listen implements Bus. It survives Redis going away: it subscribes again
// (go-redis reconnects) and calls ready once it has.
func (r *Redis) Listen(ctx context.Context, ready func(), handle func([]byte)) error {
	ping := r.Ping
	if ping <= 0 {
		ping = 15 * time.Second
	}
	ps := r.Client.Subscribe(ctx, r.Channel)
	defer ps.Close()
	// A blocked receive does not watch ctx: closing the subscription does.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	down := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, ping)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var nerr interface{ Timeout() bool }
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if down && r.Logger != nil {
					r.Logger.Info("redis pub/sub subscribed again", slog.String("channel", r.Channel))
				}
				down = false
				r.lost.Store(false)
				ready()
			}
		case *redis.Message:
			handle([]byte(m.Payload))
		case *redis.Pong:
		case nil:
			if errors.As(err, &nerr) && nerr.Timeout() {
				// Quiet channel: check the connection is alive.
				_ = ps.Ping(ctx)
				continue
			}
			if !down && r.Logger != nil {
				r.Logger.Warn("redis pub/sub lost; reconnecting", slog.String("channel", r.Channel), slog.String("error", err.Error()))
			}
			down = true
			r.lost.Store(true)
			// go-redis reconnects and subscribes again on the next receive.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
}
