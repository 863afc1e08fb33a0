DROP TABLE watchlists;
DROP TABLE price_alerts;
ALTER TABLE messages DROP COLUMN card;
