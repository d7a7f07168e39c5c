package client

import (
	"context"
	"iter"
)

// Cursor paging: every list of the API pages with a cursor that the answer
// names (next_after or next_before) and that is null on the last page. The
// …All helpers below walk every page and yield the items one by one,
// stopping at the first error (yielded with a zero item) or when the
// caller breaks out of the loop:
//
//	for m, err := range c.MessagesAll(ctx, ch, client.ListMessagesParams{Limit: 200}) {
//		if err != nil { return err }
//		…
//	}

// pages walks the pages that fetch returns, each given the cursor of the
// previous one ("" first), until the cursor is empty.
func pages[T any, C comparable](fetch func(cursor C) ([]T, *C, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var cursor C
		for {
			items, next, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			var zero C
			if next == nil || *next == zero || *next == cursor {
				return
			}
			cursor = *next
		}
	}
}

// ChannelsAll yields every channel matching p, from p.After on.
func (c *Client) ChannelsAll(ctx context.Context, p ListChannelsParams) iter.Seq2[Channel, error] {
	first := p.After
	return pages(func(after string) ([]Channel, *string, error) {
		p.After = after
		if after == "" {
			p.After = first
		}
		l, err := c.ListChannels(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		return l.Data, l.NextAfter, nil
	})
}

// MessagesAll yields every message of the log matching p, newest first.
func (c *Client) MessagesAll(ctx context.Context, channelID string, p ListMessagesParams) iter.Seq2[Message, error] {
	first := p.Before
	return pages(func(before string) ([]Message, *string, error) {
		p.Before = before
		if before == "" {
			p.Before = first
		}
		l, err := c.ListMessages(ctx, channelID, p)
		if err != nil {
			return nil, nil, err
		}
		return l.Data, l.NextBefore, nil
	})
}

// ChannelHistoryAll yields every transition of the channel, newest first.
func (c *Client) ChannelHistoryAll(ctx context.Context, channelID string, p HistoryParams) iter.Seq2[HistoryEntry, error] {
	first := p.Before
	return pages(func(before int64) ([]HistoryEntry, *int64, error) {
		p.Before = before
		if before == 0 {
			p.Before = first
		}
		l, err := c.ChannelHistory(ctx, channelID, p)
		if err != nil {
			return nil, nil, err
		}
		return l.Data, l.NextBefore, nil
	})
}

// DeliveriesAll yields every delivery of a page-returning call, newest
// first; list is one of the List…Deliveries or List…DeadLetters methods
// bound to its endpoint, e.g.
//
//	c.DeliveriesAll(func(p client.DeliveryParams) (*client.DeliveryPage, error) {
//		return c.ListChannelWebhookDeliveries(ctx, ch, wh, p)
//	}, client.DeliveryParams{Status: client.DeliveryFailed})
func (c *Client) DeliveriesAll(list func(DeliveryParams) (*DeliveryPage, error), p DeliveryParams) iter.Seq2[Delivery, error] {
	first := p.Before
	return pages(func(before string) ([]Delivery, *string, error) {
		p.Before = before
		if before == "" {
			p.Before = first
		}
		l, err := list(p)
		if err != nil {
			return nil, nil, err
		}
		return l.Data, l.NextBefore, nil
	})
}
