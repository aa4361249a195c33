from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The demo site's benchmark tooling (`competition_generate`, `competition_bench`, `make bench`):
    kept out of the competition package, since it writes thousands of rows and the serving benchmark
    starts the demo site's gunicorn and installs Debian packages."""

    name = "bench"
    label = "competition_bench"
    verbose_name = "Benchmarks"
