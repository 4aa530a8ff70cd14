package e2e

import (
	"fmt"
	"slices"
	"strings"

	platformtopology "mitosis/platform/topology"
)

// natsEventChecks are the delivery invariants with EVENTS_BROKER=nats for
// the modules' declared subscriptions: every outbox event published, in the
// inbox of each module that subscribes to its type, no dead letter, and no
// inbox entry that no subscribed outbox event explains. (The inbox holds
// each event once: its key is the event's id.)
func natsEventChecks(specs []platformtopology.Spec) []auditCheck {
	stateful := audited(specs)
	var published, missing, dead, extra []string
	for _, pub := range stateful {
		published = append(published, fmt.Sprintf(`SELECT format('%s event %%s (%%s) not published', id, type) FROM %s.event_outbox WHERE fanned_out_at IS NULL`,
			pub.Name, pub.Name))
	}
	for _, sub := range stateful {
		s := sub.Name
		var sources []string
		for _, pub := range stateful {
			var types []string
			for _, typ := range pub.Publishes {
				if slices.Contains(sub.Subscribes, typ) {
					types = append(types, "'"+typ+"'")
				}
			}
			if len(types) == 0 {
				continue
			}
			p, in := pub.Name, strings.Join(types, ", ")
			missing = append(missing, fmt.Sprintf(`SELECT format('%s event %%s (%%s) not in the inbox of %s', o.id, o.type) FROM %s.event_outbox o
				WHERE o.type IN (%s) AND NOT EXISTS (SELECT 1 FROM %s.event_inbox i WHERE i.event_id = o.id)`, p, s, p, in, s))
			sources = append(sources, fmt.Sprintf(`SELECT id FROM %s.event_outbox WHERE type IN (%s)`, p, in))
		}
		dead = append(dead, fmt.Sprintf(`SELECT format('%s dead letter %%s (%%s): %%s after %%s attempts', event_id, type, last_error, attempts) FROM %s.event_dead_letters`, s, s))
		explained := "SELECT NULL::uuid WHERE false"
		if len(sources) > 0 {
			explained = strings.Join(sources, " UNION ALL ")
		}
		extra = append(extra, fmt.Sprintf(`SELECT format('%s inbox holds %%s (%%s) that no subscribed event explains', i.event_id, i.type) FROM %s.event_inbox i
			WHERE i.event_id NOT IN (%s)`, s, s, explained))
	}
	union := func(parts []string) string { return strings.Join(parts, "\nUNION ALL\n") }
	return []auditCheck{
		{"every outbox event is published", union(published)},
		{"every subscribed event is in its subscriber's inbox", union(missing)},
		{"no dead letter", union(dead)},
		{"no inbox entry without a subscribed event", union(extra)},
	}
}
