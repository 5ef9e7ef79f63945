-- One chat's waiting rows by their order: a row held back by the chat's rate limit pushes back the
-- chat's later rows with it (so they cannot overtake it), and counting what waits for one chat.
CREATE INDEX outbox_address ON outbox(channel, address, id) WHERE state = 'pending';
