package app

import (
	"context"

	"mitosis/modules/orders/internal/store"
)

// SagaOverview counts the sagas by state and lists up to limit of those
// still running, oldest first, with their steps; each says whether it is
// compensating.
func (s *Service) SagaOverview(ctx context.Context, limit int) ([]store.SagaCount, []store.SagaView, error) {
	counts, running, err := s.store.SagaOverview(ctx, limit)
	if err != nil {
		return nil, nil, err
	}
	for i := range running {
		running[i].Compensating = compensating(running[i].Step)
	}
	return counts, running, nil
}
