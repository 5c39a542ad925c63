from django.apps import AppConfig
from django.db.backends.signals import connection_created


class PollsConfig(AppConfig):
    name = "polls"
    verbose_name = "Projects and polls"

    def ready(self) -> None:
        from polls import planner

        connection_created.connect(planner.on_connect)
