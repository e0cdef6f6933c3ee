from services.runtime.migration_env import run_migrations
from services.staff.models import Base

run_migrations(Base.metadata)
