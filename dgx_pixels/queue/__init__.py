"""The studio queue: many submitters, many ComfyUI servers (one worker beside each), jobs that outlive any machine.

Celery carries the jobs over a Redis broker, which is also the result store: ``submit`` records each job and sends
its id (returning at once), ``worker`` runs jobs one at a time on its ComfyUI through the client, ``jobs`` lists them
with their progress, ``fetch`` writes their files anywhere later, ``cancel`` stops them. ``names`` checks what users
type, ``store`` keeps the records and outcomes, ``engine`` holds Celery's settings, ``submit``, ``worker``,
``status`` and ``fetch`` are the four sides. Celery and redis are the optional ``queue`` extra: nothing here imports
them until a queue command runs.
"""
