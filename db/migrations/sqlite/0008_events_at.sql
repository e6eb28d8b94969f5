-- The event sweep deletes by age (-event-retention): find old rows by index.
CREATE INDEX events_at ON events(at);
