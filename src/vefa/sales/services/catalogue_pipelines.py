"""Writes of pipelines and their stages.

Rules the board, the forecast and renewals rely on:

- every pipeline kind that has pipelines has exactly one default pipeline, and it is active;
- every pipeline keeps at least one open, one won and one lost stage;
- a pipeline or stage that opportunities use cannot be deleted (move them first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.choices import PipelineKind, StageKind
from vefa.sales.models import Opportunity, Pipeline, Stage
from vefa.sales.services._common import as_pk, get_for, invalid
from vefa.sales.services.catalogue import (
    Cleaner,
    as_bool,
    as_required_text,
    as_whole,
    clean_values,
    require_catalogue_manager,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_STAGES = 30
DEFAULT_PROBABILITY = {StageKind.OPEN: 10, StageKind.WON: 100, StageKind.LOST: 0}


def _pipeline_kind(value: Any) -> str:
    if not isinstance(value, str) or value not in PipelineKind.values:
        raise invalid({"kind": [_("Choose a valid kind.")]})
    return value


def _stage_kind(value: Any) -> str:
    if not isinstance(value, str) or value not in StageKind.values:
        raise invalid({"kind": [_("Choose open, won or lost.")]})
    return value


PIPELINE_CLEANERS: dict[str, Cleaner] = {
    "name": lambda v: as_required_text(v, field="name", max_length=120),
    "kind": _pipeline_kind,
    "is_default": lambda v: as_bool(v, field="is_default"),
    "is_active": lambda v: as_bool(v, field="is_active"),
    "order": lambda v: as_whole(v, field="order", maximum=999),
}

STAGE_CLEANERS: dict[str, Cleaner] = {
    "name": lambda v: as_required_text(v, field="name", max_length=120),
    "kind": _stage_kind,
    "probability": lambda v: as_whole(v, field="probability", maximum=100),
    "stale_after_days": lambda v: as_whole(v, field="stale_after_days", minimum=1, maximum=3650),
}


def _name_taken() -> Any:
    return invalid({"name": [_("A pipeline with this name exists already.")]})


def _unique_pipeline_name(name: str, exclude: int | None) -> None:
    clash = Pipeline.objects.filter(name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise _name_taken()


def _unset_other_defaults(pipeline: Pipeline, actor: User) -> None:
    for other in (
        Pipeline.objects.select_for_update()
        .filter(kind=pipeline.kind, is_default=True)
        .exclude(pk=pipeline.pk)
    ):
        record_update(other, actor=actor, data={"is_default": False})


def _promote_default(kind: str, actor: User, *, exclude: int) -> None:
    """Make the first remaining active pipeline of ``kind`` its default (if there is one)."""
    successor = (
        Pipeline.objects.filter(kind=kind, is_active=True)
        .exclude(pk=exclude)
        .order_by("order", "name")
        .first()
    )
    if successor is not None and not successor.is_default:
        record_update(successor, actor=actor, data={"is_default": True})


def pipeline_create(
    *,
    actor: User,
    name: Any,
    kind: Any = PipelineKind.NEW_BUSINESS,
    is_default: Any = False,
    is_active: Any = True,
    order: Any = None,
) -> Pipeline:
    """Add a pipeline with three starter stages (open, won, lost) to rename and extend.

    The first pipeline of a kind becomes its default; ``is_default`` takes the role over
    from the current default.
    """
    require_catalogue_manager(actor, Pipeline)
    values = clean_values(
        {"name": name, "kind": kind, "is_default": is_default, "is_active": is_active},
        PIPELINE_CLEANERS,
    )
    if order is not None and order != "":
        values["order"] = as_whole(order, field="order", maximum=999)
    try:
        with transaction.atomic():
            _unique_pipeline_name(values["name"], None)
            has_default = Pipeline.objects.filter(kind=values["kind"], is_default=True).exists()
            if not has_default:
                values["is_default"] = True
            if values["is_default"] and not values["is_active"]:
                raise invalid({"is_active": [_("The default pipeline must be active.")]})
            if "order" not in values:
                last = Pipeline.objects.order_by("-order").values_list("order", flat=True).first()
                values["order"] = min((last or 0) + 1, 999)
            pipeline = record_create(Pipeline(**values), actor=actor)
            if pipeline.is_default:
                _unset_other_defaults(pipeline, actor)
            starters = [
                (_("New"), StageKind.OPEN),
                (_("Won"), StageKind.WON),
                (_("Lost"), StageKind.LOST),
            ]
            for position, (stage_name, stage_kind) in enumerate(starters):
                stage = Stage(
                    pipeline=pipeline,
                    name=stage_name,
                    kind=stage_kind,
                    order=position,
                    probability=DEFAULT_PROBABILITY[stage_kind],
                    stale_after_days=30 if stage_kind == StageKind.OPEN else 3650,
                )
                record_create(stage, actor=actor)
            return pipeline
    except IntegrityError:
        raise _name_taken() from None


def pipeline_update(
    *, actor: User, pipeline_id: Any, data: Mapping[str, Any], expected_version: int | None = None
) -> Pipeline:
    """Rename, re-kind, reorder, (de)activate or make default.

    A default pipeline stays default until another one of its kind is made default, and
    stays active while it is the default.
    """
    values = clean_values(data, PIPELINE_CLEANERS)
    try:
        with transaction.atomic():
            current = get_for(Pipeline.objects.all(), actor=actor, pk=pipeline_id)
            if "name" in values:
                _unique_pipeline_name(values["name"], current.pk)
            kind = values.get("kind", current.kind)
            kind_changes = kind != current.kind
            if values.get("is_default") is False and current.is_default and not kind_changes:
                raise invalid(
                    {"is_default": [_("Make another pipeline of this kind the default instead.")]}
                )
            if values.get("is_active") is False and (
                (current.is_default and not kind_changes) or values.get("is_default")
            ):
                raise invalid(
                    {
                        "is_active": [
                            _("The default pipeline must be active.")
                            + " "
                            + _("Make another pipeline of this kind the default first.")
                        ]
                    }
                )
            if kind_changes:
                # The new kind keeps its default unless this one is made default explicitly;
                # a kind without pipelines gets this one as its default.
                if "is_default" not in values:
                    values["is_default"] = not Pipeline.objects.filter(
                        kind=kind, is_default=True
                    ).exists()
                if values["is_default"] and not values.get("is_active", current.is_active):
                    raise invalid({"is_active": [_("The default pipeline must be active.")]})
            old_kind, was_default = current.kind, current.is_default
            updated = record_update(
                current, actor=actor, data=values, expected_version=expected_version
            )
            if updated.is_default:
                _unset_other_defaults(updated, actor)
            if kind_changes and was_default:
                _promote_default(old_kind, actor, exclude=updated.pk)
            return updated
    except IntegrityError:
        raise _name_taken() from None


def pipeline_delete(*, actor: User, pipeline_id: Any) -> None:
    """Delete a pipeline no opportunity uses, with its stages; the default role passes on."""
    with transaction.atomic():
        pipeline = get_for(Pipeline.objects.all(), actor=actor, pk=pipeline_id, action="delete")
        if Opportunity.objects.filter(pipeline=pipeline).exists():
            raise invalid(
                {
                    "__all__": [
                        _(
                            "Opportunities are in this pipeline. Move them to another pipeline "
                            "or delete them first."
                        )
                    ]
                }
            )
        if (
            pipeline.is_default
            and Pipeline.objects.filter(kind=pipeline.kind).exclude(pk=pipeline.pk).exists()
        ):
            if (
                not Pipeline.objects.filter(kind=pipeline.kind, is_active=True)
                .exclude(pk=pipeline.pk)
                .exists()
            ):
                raise invalid(
                    {
                        "__all__": [
                            _(
                                "Activate another pipeline of this kind first: "
                                "it becomes the default."
                            )
                        ]
                    }
                )
            _promote_default(pipeline.kind, actor, exclude=pipeline.pk)
        for stage in pipeline.stages.all():
            record_delete(stage, actor=actor)
        record_delete(pipeline, actor=actor)


# --- stages ------------------------------------------------------------------------------


def _stage_name_taken() -> Any:
    return invalid({"name": [_("This pipeline has a stage with this name already.")]})


def _unique_stage_name(pipeline_id: int, name: str, exclude: int | None) -> None:
    clash = Stage.objects.filter(pipeline_id=pipeline_id, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise _stage_name_taken()


def _keeps_every_kind(pipeline_id: int, *, without: int, new_kind: str | None = None) -> None:
    """Refuse a change that would leave the pipeline without an open, won or lost stage."""
    kinds = list(
        Stage.objects.filter(pipeline_id=pipeline_id)
        .exclude(pk=without)
        .values_list("kind", flat=True)
    )
    if new_kind is not None:
        kinds.append(new_kind)
    missing = [k for k in StageKind.values if k not in kinds]
    if missing:
        label = StageKind(missing[0]).label
        raise invalid(
            {
                "kind": [
                    _("A pipeline needs at least one open, one won and one lost stage.")
                    + " "
                    + _("This is its last “%(kind)s” stage.") % {"kind": label}
                ]
            }
        )


def stage_create(
    *,
    actor: User,
    pipeline_id: Any,
    name: Any,
    kind: Any = StageKind.OPEN,
    probability: Any = None,
    stale_after_days: Any = 30,
) -> Stage:
    """Add a stage to a pipeline. Open stages go before the closing (won/lost) ones."""
    values = clean_values(
        {"name": name, "kind": kind, "stale_after_days": stale_after_days}, STAGE_CLEANERS
    )
    if probability is None or probability == "":
        values["probability"] = DEFAULT_PROBABILITY[StageKind(values["kind"])]
    else:
        values["probability"] = as_whole(probability, field="probability", maximum=100)
    try:
        with transaction.atomic():
            pipeline = get_for(Pipeline.objects.all(), actor=actor, pk=pipeline_id)
            stages = list(pipeline.stages.select_for_update().order_by("order", "id"))
            if len(stages) >= MAX_STAGES:
                raise invalid(
                    {"__all__": [_("A pipeline has at most %(n)d stages.") % {"n": MAX_STAGES}]}
                )
            _unique_stage_name(pipeline.pk, values["name"], None)
            if values["kind"] == StageKind.OPEN:
                closing = [s for s in stages if s.kind != StageKind.OPEN]
                position = closing[0].order if closing else len(stages)
                # Make room: the closing stages move one place down.
                for stage in stages:
                    if stage.order >= position:
                        record_update(stage, actor=actor, data={"order": stage.order + 1})
            else:
                position = (stages[-1].order + 1) if stages else 0
            stage = Stage(pipeline=pipeline, order=position, **values)
            return record_create(stage, actor=actor)
    except IntegrityError:
        raise _stage_name_taken() from None


def stage_update(
    *, actor: User, stage_id: Any, data: Mapping[str, Any], expected_version: int | None = None
) -> Stage:
    """Rename a stage or change its kind, win probability or stale-after days."""
    values = clean_values(data, STAGE_CLEANERS)
    try:
        with transaction.atomic():
            current = get_for(Stage.objects.all(), actor=actor, pk=stage_id)
            if "name" in values:
                _unique_stage_name(current.pipeline_id, values["name"], current.pk)
            if "kind" in values and values["kind"] != current.kind:
                if Opportunity.objects.filter(stage=current).exists():
                    raise invalid(
                        {
                            "kind": [
                                _(
                                    "Opportunities are in this stage; its kind cannot change. "
                                    "Add a new stage instead."
                                )
                            ]
                        }
                    )
                _keeps_every_kind(current.pipeline_id, without=current.pk, new_kind=values["kind"])
            return record_update(
                current, actor=actor, data=values, expected_version=expected_version
            )
    except IntegrityError:
        raise _stage_name_taken() from None


def stage_delete(*, actor: User, stage_id: Any) -> None:
    """Delete a stage no opportunity is in; a pipeline keeps one stage of each kind."""
    with transaction.atomic():
        stage = get_for(Stage.objects.all(), actor=actor, pk=stage_id, action="delete")
        if Opportunity.objects.filter(stage=stage).exists():
            raise invalid(
                {
                    "__all__": [
                        _("Opportunities are in this stage. Move them to another stage first.")
                    ]
                }
            )
        _keeps_every_kind(stage.pipeline_id, without=stage.pk)
        record_delete(stage, actor=actor)


def stages_reorder(*, actor: User, pipeline_id: Any, stage_ids: Sequence[Any]) -> list[Stage]:
    """Put a pipeline's stages in the order given (every stage exactly once)."""
    if isinstance(stage_ids, str | bytes) or not isinstance(stage_ids, Sequence):
        raise invalid({"stage_ids": [_("Give the list of the pipeline's stage ids.")]})
    try:
        wanted = [as_pk(s) for s in stage_ids if not isinstance(s, bool)]
    except Exception:
        raise invalid({"stage_ids": [_("Give the list of the pipeline's stage ids.")]}) from None
    with transaction.atomic():
        pipeline = get_for(Pipeline.objects.all(), actor=actor, pk=pipeline_id)
        stages = {s.pk: s for s in pipeline.stages.select_for_update()}
        if len(wanted) != len(stage_ids) or sorted(wanted) != sorted(stages):
            raise invalid({"stage_ids": [_("List every stage of this pipeline exactly once.")]})
        result = []
        for position, key in enumerate(wanted):
            stage = stages[key]
            if stage.order != position:
                stage = record_update(stage, actor=actor, data={"order": position})
            result.append(stage)
        return result


def stage_move(*, actor: User, stage_id: Any, offset: int) -> list[Stage]:
    """Move a stage ``offset`` places (−1 up, +1 down) within its pipeline."""
    stage = get_for(Stage.objects.all(), actor=actor, pk=stage_id, action="view")
    ids = list(
        Stage.objects.filter(pipeline_id=stage.pipeline_id)
        .order_by("order", "id")
        .values_list("pk", flat=True)
    )
    index = ids.index(stage.pk)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    return stages_reorder(actor=actor, pipeline_id=stage.pipeline_id, stage_ids=ids)
