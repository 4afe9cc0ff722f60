"""Events other apps react to without courses knowing them (billing, certificates, e-mail).

Both are sent once, after the transaction that recorded the completion commits."""

from django.dispatch import Signal

# sender=Course; kwargs: user, completion (CourseCompletion)
course_completed = Signal()
# sender=Specialization; kwargs: user, completed_at
specialization_completed = Signal()
