from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        from courses import api as courses

        from . import receivers

        courses.course_completed.connect(receivers.on_course_completed, dispatch_uid="certificates-course")
        courses.specialization_completed.connect(
            receivers.on_specialization_completed, dispatch_uid="certificates-specialization"
        )
