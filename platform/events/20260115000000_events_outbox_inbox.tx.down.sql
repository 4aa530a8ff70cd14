DROP TABLE event_inbox;
DROP TABLE event_deliveries;
DROP TABLE event_outbox;
