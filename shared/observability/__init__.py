"""What operators see: the metrics, the gauges computed from the ledger, the metrics'
documentation and the Grafana dashboards."""
