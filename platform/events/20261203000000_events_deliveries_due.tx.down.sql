DROP INDEX event_deliveries_due_idx;
