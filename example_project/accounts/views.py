"""Sign-up: a user and their team in one step, then logged in."""

from __future__ import annotations

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.views.generic import FormView

from accounts.forms import SignUpForm
from accounts.teams import create_team_for


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm
    success_url = reverse_lazy("pricing")

    def form_valid(self, form: SignUpForm) -> HttpResponse:
        with transaction.atomic():
            user = form.save()
            create_team_for(user, form.cleaned_data["team_name"])
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return super().form_valid(form)
