from services.finance.models import Base
from services.runtime.migration_env import run_migrations

run_migrations(Base.metadata)
