"""The two backends behind the one seam (`cmltui.api.backend.Backend`).

- `direct`: cmltui's own core on AWS (EC2, CloudWatch) and each worker's CML API: the
  collector and idle checker on their timers, actions, prices and savings.
- `ccm`: a CML Cloud Manager as the source: its event stream feeds the two channels and its
  REST routes act.
"""
