DROP TABLE order_stats;
