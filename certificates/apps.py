from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        from courses import signals

        from . import receivers

        signals.course_completed.connect(receivers.on_course_completed, dispatch_uid="certificates-course")
        signals.specialization_completed.connect(
            receivers.on_specialization_completed, dispatch_uid="certificates-specialization"
        )
