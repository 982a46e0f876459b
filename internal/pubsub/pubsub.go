// Package pubsub carries notifications between the instances of shipmentapp:
// Redis pub/sub in production, an in-process bus in the embedded default,
// behind one interface. Delivery is at most once (a subscriber that is
// disconnected misses what is published meanwhile): callers keep the truth in
// the database and use notifications only to learn that there is something
// new to read, re-reading whenever Listen reports that it (re)subscribed.
package pubsub

import (
	"context"
	"sync"
)

// Bus publishes messages to every listener, on this instance and others.
type Bus interface {
	// Publish sends msg to every current listener.
	Publish(ctx context.Context, msg []byte) error
	// Listen calls handle with every message published until ctx is done,
	// and ready each time it has (re)subscribed: messages published before
	// a ready call may have been missed. handle and ready must not block.
	// Listen returns ctx's error when ctx is done.
	Listen(ctx context.Context, ready func(), handle func(msg []byte)) error
}

// Health is implemented by a Bus that can lose its connection (Redis):
// Down reports that notes from other instances are being missed.
type Health interface {
	Down() bool
}

// Memory is the in-process Bus of a single instance.
type Memory struct {
	mu        sync.RWMutex
	listeners map[*func([]byte)]struct{}
}

// NewMemory returns an empty in-process bus.
func NewMemory() *Memory { return &Memory{listeners: map[*func([]byte)]struct{}{}} }

// Publish implements Bus: it calls every listener before returning.
func (m *Memory) Publish(_ context.Context, msg []byte) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for h := range m.listeners {
		(*h)(msg)
	}
	return nil
}

// Listen implements Bus.
func (m *Memory) Listen(ctx context.Context, ready func(), handle func([]byte)) error {
	h := &handle
	m.mu.Lock()
	m.listeners[h] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.listeners, h)
		m.mu.Unlock()
	}()
	ready()
	<-ctx.Done()
	return ctx.Err()
}
