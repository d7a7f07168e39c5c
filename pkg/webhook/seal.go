package webhook

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wagate/wagate/pkg/secretbox"
)

// SealSecrets seals with box's current key every signing secret stored in
// the clear (rows from before migration 0009_secrets.sql) or sealed with a
// previous key (after a rotation of WAGATE_SECRET_KEY), and returns how
// many rows it changed. Every process holding the key runs it at start;
// each row is replaced only if it still holds what was read, so processes
// starting together do not undo each other.
//
// A secret sealed with a key the box does not hold fails the start: the
// endpoint could not be signed for, and the fix is to add the old key to
// WAGATE_SECRET_KEY_PREVIOUS.
func SealSecrets(ctx context.Context, pool *pgxpool.Pool, box *secretbox.Box) (int, error) {
	rows, err := pool.Query(ctx, `SELECT id, secret, previous_secret FROM webhook_endpoints
		WHERE secret NOT LIKE $1 OR previous_secret NOT LIKE $1`, box.CurrentPrefix()+"%")
	if err != nil {
		return 0, fmt.Errorf("webhook: find secrets to seal: %w", err)
	}
	type row struct {
		id, secret string
		previous   *string
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.secret, &r.previous); err != nil {
			rows.Close()
			return 0, fmt.Errorf("webhook: find secrets to seal: %w", err)
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("webhook: find secrets to seal: %w", err)
	}
	d := db{pool: pool, box: box}
	reseal := func(id, stored string) (string, error) {
		if box.Current(stored) {
			return stored, nil
		}
		plain, err := d.open(stored)
		if err != nil {
			return "", fmt.Errorf("webhook: secret of endpoint %s: %w (add the key it was sealed with to WAGATE_SECRET_KEY_PREVIOUS)", id, err)
		}
		return box.Seal(plain)
	}
	changed := 0
	for _, r := range todo {
		secret, err := reseal(r.id, r.secret)
		if err != nil {
			return changed, err
		}
		var previous *string
		if r.previous != nil {
			p, err := reseal(r.id, *r.previous)
			if err != nil {
				return changed, err
			}
			previous = &p
		}
		tag, err := pool.Exec(ctx, `UPDATE webhook_endpoints SET secret = $2, previous_secret = $3
			WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5`,
			r.id, secret, previous, r.secret, r.previous)
		if err != nil {
			return changed, fmt.Errorf("webhook: seal the secret of endpoint %s: %w", r.id, err)
		}
		changed += int(tag.RowsAffected())
	}
	return changed, nil
}
