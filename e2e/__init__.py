"""The real-deployment stage (`make e2e`): a harness that runs Airflow for real, and its scenarios."""
