"""The Kafka streams (faust-streaming): the requests and events of a district."""
