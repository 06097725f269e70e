"""Getting messages onto the brokers: broker names, the outbox relay, the unit queues
(AMQP, kombu), the Kafka streams (faust) and the notifier's own deliveries."""
