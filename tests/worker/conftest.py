from tests.worker_fixtures import (  # noqa: F401  (fixtures)
    broker_isolation,
    celery_worker,
    data_root,
    worker_process,
)
