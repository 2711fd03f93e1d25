"""The administrators' pages every integration record has, written once: the list, the form
to create and to edit, a new secret (shown once, on the page that answers the action that
made it) and delete. Webhooks and order sources each describe themselves with an
``AdminPages`` and add their own detail page and actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vefa.accounts.access import can_create
from vefa.accounts.models import User
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404

View = Callable[..., HttpResponse]


def page(*methods: str) -> Callable[[View], View]:
    """A page for signed-in people answering ``methods``; a hidden record is a 404."""

    def decorate(view: View) -> View:
        return login_required(require_http_methods(list(methods))(hidden_as_404(view)))

    return decorate


@dataclass(frozen=True)
class AdminPages:
    """How one kind of record is listed, created, edited, given a new secret and deleted.

    ``name`` names the URLs (``<name>_list``, ``<name>_detail`` …), the templates
    (``integrations/<name>_list.html``, ``_form.html``, ``_secret.html``) and the record in
    their context (``<name>``; ``<name>s`` on the list). The services take the actor and the
    record's id as ``<name>_id``.
    """

    model: type[models.Model]
    name: str
    prefix: str
    select_list: Callable[..., Any]
    select_get: Callable[..., Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    rotate_secret: Callable[..., Any]
    delete: Callable[..., Any]
    make_form: Callable[..., forms.Form]
    initial_for: Callable[[Any], dict[str, Any]]
    saved_message: Callable[[], str]
    deleted_message: Callable[[], str]
    # The initial values of a new record's form, for the person creating it.
    initial_new: Callable[[HttpRequest], dict[str, Any]] = lambda request: {}
    # Service errors onto the form.
    apply_errors: Callable[[Any, ValidationFailed], None] = apply_errors
    # More context of the new-secret page (e.g. the address to post to).
    secret_context: Callable[[HttpRequest, Any], dict[str, Any]] = lambda request, made: {}

    def admin_only(self, request: HttpRequest) -> User:
        """The acting person, when they may manage these records; otherwise "not found"."""
        actor = actor_of(request)
        if not can_create(actor, self.model):
            raise NotFound(_("Not found."))
        return actor

    def get(self, actor: User, pk: int) -> Any:
        return self.select_get(actor=actor, pk=pk)

    def _template(self, page_name: str) -> str:
        return f"integrations/{self.name}_{page_name}.html"

    def _id(self, pk: int) -> dict[str, int]:
        return {f"{self.name}_id": pk}

    def secret_page(self, request: HttpRequest, made: Any) -> HttpResponse:
        """The record and its new secret, shown this once and never cached."""
        context = {
            self.name: getattr(made, self.name),
            "secret": made.secret,
            **self.secret_context(request, made),
        }
        response = render(request, self._template("secret"), context)
        response["Cache-Control"] = "no-store"
        return response

    def _form_page(self, request: HttpRequest, form: forms.Form, record: Any) -> HttpResponse:
        return render(
            request,
            self._template("form"),
            {"form": form, self.name: record},
            status=422 if form.errors else 200,
        )

    def list_view(self, request: HttpRequest) -> HttpResponse:
        actor = self.admin_only(request)
        return render(
            request, self._template("list"), {f"{self.name}s": self.select_list(actor=actor)}
        )

    def create_view(self, request: HttpRequest) -> HttpResponse:
        actor = self.admin_only(request)
        form = self.make_form(
            request.POST if request.method == "POST" else None, self.initial_new(request)
        )
        if request.method == "POST" and form.is_valid():
            try:
                made = self.create(actor=actor, data=form.service_data())  # type: ignore[attr-defined]
            except ValidationFailed as exc:
                self.apply_errors(form, exc)
            else:
                return self.secret_page(request, made)
        return self._form_page(request, form, None)

    def edit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = self.admin_only(request)
        record = self.get(actor, pk)
        if request.method == "POST":
            form = self.make_form(request.POST, None)
            if form.is_valid():
                try:
                    self.update(
                        actor=actor,
                        **self._id(record.pk),
                        data=form.service_data(),  # type: ignore[attr-defined]
                        expected_version=form.cleaned_data.get("version"),
                    )
                except Conflict as exc:
                    form.add_error(None, str(exc.message))
                except ValidationFailed as exc:
                    self.apply_errors(form, exc)
                else:
                    messages.success(request, self.saved_message())
                    return HttpResponseRedirect(
                        reverse(f"integrations:{self.name}_detail", args=[pk])
                    )
        else:
            form = self.make_form(None, self.initial_for(record))
        return self._form_page(request, form, record)

    def rotate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = self.admin_only(request)
        return self.secret_page(request, self.rotate_secret(actor=actor, **self._id(pk)))

    def delete_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        actor = self.admin_only(request)
        self.delete(actor=actor, **self._id(pk))
        messages.success(request, self.deleted_message())
        return HttpResponseRedirect(reverse(f"integrations:{self.name}_list"))

    def views(self) -> dict[str, View]:
        """The shared pages as view functions, by URL name (also their ``__name__``)."""
        made = {
            f"{self.name}_list": page("GET")(self.list_view),
            f"{self.name}_create": page("GET", "POST")(self.create_view),
            f"{self.name}_edit": page("GET", "POST")(self.edit_view),
            f"{self.name}_rotate": page("POST")(self.rotate_view),
            f"{self.name}_delete": page("POST")(self.delete_view),
        }
        for url_name, view in made.items():
            view.__name__ = view.__qualname__ = url_name
        return made

    def urlpatterns(self, detail: View, *extra: URLPattern) -> list[URLPattern]:
        """The URLs of the shared pages, the record's own ``detail`` page and its ``extra``
        actions."""
        views = self.views()
        prefix = self.prefix
        return [
            path(f"{prefix}/", views[f"{self.name}_list"], name=f"{self.name}_list"),
            path(f"{prefix}/new/", views[f"{self.name}_create"], name=f"{self.name}_create"),
            path(f"{prefix}/<int:pk>/", detail, name=f"{self.name}_detail"),
            path(f"{prefix}/<int:pk>/edit/", views[f"{self.name}_edit"], name=f"{self.name}_edit"),
            path(
                f"{prefix}/<int:pk>/secret/",
                views[f"{self.name}_rotate"],
                name=f"{self.name}_rotate",
            ),
            path(
                f"{prefix}/<int:pk>/delete/",
                views[f"{self.name}_delete"],
                name=f"{self.name}_delete",
            ),
            *extra,
        ]
