"""``python -m airflow_provider_rtc.sandbox``."""

import sys

from .cli import main

sys.exit(main())
