package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
)

// watermill is the reference bus: Watermill's SQL Pub/Sub as its
// documentation sets it up for PostgreSQL (the default schema and offsets
// adapters, pgx), one topic per mode (a table each, so the latency run
// does not begin behind the rate run's backlog). Its defaults hold except
// PollInterval, set to the app's EVENTS_POLL_INTERVAL in the same run
// (-poll; Watermill's default is 1 s), so both buses wait as long when they
// find nothing. The
// effect is the message received by the subscriber, which acks it at once
// and does nothing else: Watermill's own subscribe rate.
type watermill struct {
	pool  *pgxpool.Pool
	topic string
	poll  time.Duration
	pub   *wsql.Publisher
	sub   *wsql.Subscriber

	mu       sync.Mutex
	received map[string]time.Time // message uuid → when the subscriber got it
	cancel   context.CancelFunc
	done     chan struct{}
}

// publishChunk bounds one Publish of the backlog (3 parameters a message,
// PostgreSQL takes 65535).
const publishChunk = 1000

// orderConfirmed is orders.OrderConfirmed's JSON, the payload of both buses.
type orderConfirmed struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	TotalCents int64  `json:"total_cents"`
	PaymentID  string `json:"payment_id"`
}

func (b *watermill) open(context.Context) error {
	db := wsql.BeginnerFromPgx(b.pool)
	logger := wm.NewStdLogger(false, false)
	var err error
	b.pub, err = wsql.NewPublisher(db, wsql.PublisherConfig{
		SchemaAdapter:        wsql.DefaultPostgreSQLSchema{},
		AutoInitializeSchema: true,
	}, logger)
	if err != nil {
		return fmt.Errorf("watermill publisher: %w", err)
	}
	b.sub, err = wsql.NewSubscriber(db, wsql.SubscriberConfig{
		SchemaAdapter:    wsql.DefaultPostgreSQLSchema{},
		OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
		InitializeSchema: true,
		PollInterval:     b.poll,
	}, logger)
	if err != nil {
		return fmt.Errorf("watermill subscriber: %w", err)
	}
	b.received = map[string]time.Time{}
	return nil
}

func (b *watermill) subscribe(ctx context.Context) error {
	ctx, b.cancel = context.WithCancel(ctx)
	msgs, err := b.sub.Subscribe(ctx, b.topic)
	if err != nil {
		return fmt.Errorf("watermill subscribe: %w", err)
	}
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		for msg := range msgs {
			at := time.Now()
			msg.Ack()
			b.mu.Lock()
			b.received[msg.UUID] = at
			b.mu.Unlock()
		}
	}()
	return nil
}

func (b *watermill) close() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
	}
	if b.sub != nil {
		_ = b.sub.Close()
	}
	if b.pub != nil {
		_ = b.pub.Close()
	}
}

func (b *watermill) publish(ctx context.Context, n int) ([]string, error) {
	keys := make([]string, 0, n)
	for len(keys) < n {
		chunk := make([]*message.Message, min(publishChunk, n-len(keys)))
		for i := range chunk {
			orderID := wm.NewUUID()
			payload, err := json.Marshal(orderConfirmed{
				OrderID: orderID, CustomerID: customerID(len(keys) + i), TotalCents: orderTotalCents, PaymentID: wm.NewUUID(),
			})
			if err != nil {
				return nil, err
			}
			m := message.NewMessage(wm.NewUUID(), payload)
			m.Metadata.Set("type", "order.confirmed")
			m.Metadata.Set("aggregate_id", orderID)
			m.Metadata.Set("source", "orders")
			m.SetContext(ctx)
			chunk[i] = m
		}
		if err := b.pub.Publish(b.topic, chunk...); err != nil {
			return nil, fmt.Errorf("watermill publish: %w", err)
		}
		for _, m := range chunk {
			keys = append(keys, m.UUID)
		}
	}
	return keys, nil
}

func (b *watermill) effects(ctx context.Context, keys []string, stall time.Duration) (map[string]span, error) {
	if err := waitFor(ctx, len(keys), stall, func(context.Context) (int, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		n := 0
		for _, k := range keys {
			if _, ok := b.received[k]; ok {
				n++
			}
		}
		return n, nil
	}); err != nil {
		return nil, fmt.Errorf("watermill subscriber: %w", err)
	}
	table := wsql.DefaultPostgreSQLSchema{}.MessagesTable(b.topic)
	rows, err := b.pool.Query(ctx, `SELECT uuid, pg_xact_commit_timestamp(xid(transaction_id)) FROM `+table+
		` WHERE uuid = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("commit timestamps: %w", err)
	}
	defer rows.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]span, len(keys))
	for rows.Next() {
		var id string
		var s span
		if err := rows.Scan(&id, &s.published); err != nil {
			return nil, fmt.Errorf("commit timestamps: %w", err)
		}
		s.effect = b.received[id]
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("commit timestamps: %w", err)
	}
	if len(out) != len(keys) {
		return nil, fmt.Errorf("%d of %d published messages found in %s", len(out), len(keys), table)
	}
	return out, nil
}

// customerID is one of the eight customers the outbox events name too.
func customerID(i int) string { return fmt.Sprintf("00000000-0000-7000-8000-%012d", 100000000001+i%8) }
