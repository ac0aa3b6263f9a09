"""A campaign's duplicate queue (查重) and its link to the core-banking file in the graph, and the mutations that
start a search, decide a pair and import the bank's files. ID numbers and phones as the campaign's policy shows
them; each read in clear noted for the audit."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from domain.errors import DomainError, ErrorCode
from resolvers.village_credit import core_file
from resolvers.village_credit import duplicates as cases
from resolvers.village_credit.core_file import FeedKind, Link, LinkReport
from resolvers.village_credit.duplicates import CandidateView, SurveySide
from schema.platform.context import Info
from schema.platform.errors import VillageCreditError, query_error
from schema.platform.ids import decode_pk
from schema.platform.input_limits import max_length
from schema.platform.jobs import Job
from schema.platform.pagination import CountedConnection
from settings import SETTINGS

DuplicateDecision = strawberry.enum(cases.DuplicateDecision, name="DuplicateDecision", description="确认或排除")
DuplicateStatus = strawberry.enum(cases.DuplicateStatus, name="DuplicateStatus", description="查重记录状态")
LinkStatus = strawberry.enum(core_file.LinkStatus, name="CoreFileLinkStatus", description="与核心客户信息比对")
MAX_LINK_PAGE = 200


def _disclosed(info: Info, masked: bool, survey_id: int, field_name: str, value: str | None) -> str | None:
    if not masked and value is not None:
        info.context.disclose("HouseholdSurvey", survey_id, field_name)
    return value


@strawberry.type(description="One of the two surveys of a queued pair, by its head of household")
class DuplicateSurveySide:
    side: strawberry.Private[SurveySide]
    masked: strawberry.Private[bool]
    survey_id: strawberry.ID
    campaign_id: strawberry.ID
    head_name: str
    collector_id: int
    merged_into_id: strawberry.ID | None = strawberry.field(description="The survey it was merged into, if it was")
    address_group: str = strawberry.field(description="Village group of the address; empty when masked")

    @classmethod
    def of(cls, side: SurveySide, masked: bool) -> DuplicateSurveySide:
        merged = strawberry.ID(str(side.merged_into_id)) if side.merged_into_id else None
        return cls(side=side, masked=masked, survey_id=strawberry.ID(str(side.survey_id)),
                   campaign_id=strawberry.ID(str(side.campaign_id)), head_name=side.head_name,
                   collector_id=side.collector_id, merged_into_id=merged, address_group=side.address_group)  # fmt: skip

    @strawberry.field(description="The head's resident ID number (masked unless you collect)")
    def head_id_number(self, info: Info) -> str | None:
        return _disclosed(info, self.masked, self.side.survey_id, "headIdNumber", self.side.head_id_number)

    @strawberry.field(description="The household's phone (masked unless you collect)")
    def phone(self, info: Info) -> str | None:
        return _disclosed(info, self.masked, self.side.survey_id, "phone", self.side.phone)


@strawberry.type(name="DuplicateCandidate", description="Two surveys that probably hold the same person (查重)")
class DuplicateCandidate(relay.Node):
    pk: relay.NodeID[int]
    score: float = strawberry.field(description="0 to 1; 1 is certain (the same ID number)")
    rule: str = strawberry.field(description="EXACT_ID, NAME_PHONE, NAME_BIRTH_DATE or NAME_ADDRESS")
    reasons: JSON = strawberry.field(description="[{code, zh, en, member, otherMember, score}]")
    status: DuplicateStatus  # type: ignore[valid-type]
    survey: DuplicateSurveySide
    other: DuplicateSurveySide
    found_at: datetime.datetime
    decided_by_id: int | None
    decided_at: datetime.datetime | None
    note: str

    @classmethod
    def of(cls, view: CandidateView) -> DuplicateCandidate:
        c = view.candidate
        return cls(pk=c.id, score=c.score, rule=c.rule, reasons=c.reasons, status=cases.DuplicateStatus(c.status),
                   survey=DuplicateSurveySide.of(view.survey, view.masked),
                   other=DuplicateSurveySide.of(view.other, view.masked), found_at=c.found_at,
                   decided_by_id=c.decided_by_id, decided_at=c.decided_at, note=c.note)  # type: ignore[attr-defined]  # fmt: skip

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[DuplicateCandidate | None]:
        actor = info.context.require_actor()
        found: list[DuplicateCandidate | None] = []
        for node_id in node_ids:
            try:
                found.append(cls.of(await cases.get_candidate(actor, int(node_id))))
            except DomainError:
                found.append(None)
        return found


@strawberry.type(description="A surveyed person against the core-banking customer file")
class CoreFileLink:
    link: strawberry.Private[Link]
    masked: strawberry.Private[bool]
    survey_id: strawberry.ID
    name: str
    status: LinkStatus  # type: ignore[valid-type]
    changed: list[str] = strawberry.field(description="Which of name, phone, address differ from the core file")

    @strawberry.field(description="Resident ID number (masked unless you collect)")
    def id_number(self, info: Info) -> str:
        from domain.customers.masking import mask_id_number

        number = self.link.person.id_number
        if self.masked:
            return mask_id_number(number)
        info.context.disclose("HouseholdSurvey", self.link.person.survey_id, "members.idNumber")
        return number


@strawberry.type(description="How a campaign's surveyed people stand in the core-banking customer file")
class CoreFileLinks:
    new: int = strawberry.field(description="New to the bank: not in the core file")
    unchanged: int = strawberry.field(description="Known, same name, phone and address")
    changed: int = strawberry.field(description="Known, and the survey says otherwise")
    people: list[CoreFileLink] = strawberry.field(description="The page asked for, by ID number")
    has_more: bool

    @classmethod
    def of(cls, report: LinkReport) -> CoreFileLinks:
        people = [
            CoreFileLink(
                link=k,
                masked=report.masked,
                survey_id=strawberry.ID(str(k.person.survey_id)),
                name=k.person.name,
                status=k.status,
                changed=list(k.changed),
            )
            for k in report.links
        ]
        return cls(new=report.new, unchanged=report.unchanged, changed=report.changed, people=people,
                   has_more=report.has_more)  # fmt: skip


VillageJobResult = Annotated[Job | VillageCreditError, strawberry.union("VillageJobResult")]
DecideDuplicateResult = Annotated[DuplicateCandidate | VillageCreditError, strawberry.union("DecideDuplicateResult")]


async def start_village_dedup(info: Info, campaign_id: strawberry.ID) -> VillageJobResult:
    try:
        pk = decode_pk(campaign_id, "VillageCampaign", "campaignId", ErrorCode.NOT_FOUND)
        job = await cases.start_dedup(info.context.require_actor(), pk)
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


async def decide_duplicate(
    info: Info,
    id: strawberry.ID,
    decision: DuplicateDecision,  # type: ignore[valid-type]
    keep_other: Annotated[
        bool, strawberry.argument(description="Keep the other survey and merge this campaign's one into it")
    ] = False,
    note: Annotated[str, strawberry.argument(directives=max_length(cases.MAX_NOTE_LENGTH))] = "",
) -> DecideDuplicateResult:
    try:
        pk = decode_pk(id, "DuplicateCandidate", "id", ErrorCode.NOT_FOUND)
        view = await cases.decide_duplicate(info.context.require_actor(), pk, decision, keep_other=keep_other,
                                            note=note)  # fmt: skip
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return DuplicateCandidate.of(view)


async def _import(info: Info, kind: FeedKind, file: Upload) -> VillageJobResult:
    # a variable sent as JSON instead of a file part arrives as whatever the JSON held
    upload = file if isinstance(file, UploadFile) else None
    try:
        actor = info.context.require_actor()
        if upload is None:
            raise DomainError(ErrorCode.INVALID_VALUE, "没有收到文件：请以 multipart 表单上传",
                              "no file was received: send it as a multipart upload", "file")  # fmt: skip
        content = await upload.read(SETTINGS.max_upload_bytes + 1)
        if len(content) > SETTINGS.max_upload_bytes:
            raise DomainError(ErrorCode.INVALID_VALUE, "文件超过上传上限", "the file is larger than the upload limit",
                              "file")  # fmt: skip
        job = await core_file.import_feed(actor, kind, upload.filename or "", content)
    except DomainError as error:
        return VillageCreditError.from_domain(error)  # type: ignore[no-any-return]
    return Job.from_model(job)


async def import_core_file(
    info: Info, file: Annotated[Upload, strawberry.argument(description="The core-banking feed, CSV in UTF-8")]
) -> VillageJobResult:
    return await _import(info, FeedKind.CORE_FILE, file)


async def import_enforcement_list(
    info: Info, file: Annotated[Upload, strawberry.argument(description="The court's list, CSV in UTF-8")]
) -> VillageJobResult:
    return await _import(info, FeedKind.ENFORCEMENT_LIST, file)


@strawberry.type
class Mutation:
    start_village_dedup: VillageJobResult = strawberry.mutation(
        resolver=start_village_dedup,
        description="Search the campaign's surveys for the same person surveyed twice, in it or in the county's "
        "other campaigns (查重), as a background run; its collectors, first reviewer and head office",
    )
    decide_duplicate: DecideDuplicateResult = strawberry.mutation(
        resolver=decide_duplicate,
        description="Confirm a queued pair (the duplicate survey is merged into the kept one, its history kept) or "
        "reject it; a collector of the campaign or its first reviewer, not the one collector who surveyed both; "
        "sending the same decision again changes nothing",
    )
    import_core_file: VillageJobResult = strawberry.mutation(
        resolver=import_core_file,
        description="Import the core-banking customer file (核心客户信息, CSV, GraphQL multipart request): kept and "
        "queued as a job that checks it whole (refused whole, FAILED with each cell at fault in its report) or "
        "upserts it by ID number; one bank file at a time; head office only",
    )
    import_enforcement_list: VillageJobResult = strawberry.mutation(
        resolver=import_enforcement_list,
        description="Import the court's enforcement list (失信被执行人名单, CSV: id_number, name, case_number, court, "
        "listed_on), as the core file is; head office only",
    )


async def duplicate_candidates(
    info: Info, campaign_id: int, status: cases.DuplicateStatus | None, first: int | None, after: str | None
) -> CountedConnection[DuplicateCandidate]:
    try:
        page, _masked = await cases.list_candidates(info.context.require_actor(), campaign_id, status, first, after)
    except DomainError as error:
        raise query_error(error) from None
    return CountedConnection.from_page(page, DuplicateCandidate.of)


async def core_file_links(
    info: Info, campaign_id: int, status: core_file.LinkStatus | None, first: int, after: str | None
) -> CoreFileLinks:
    if not 1 <= first <= MAX_LINK_PAGE:
        raise query_error(DomainError(ErrorCode.PAGE_TOO_LARGE, f"每页条数须在1到{MAX_LINK_PAGE}之间",
                                      f"first must be between 1 and {MAX_LINK_PAGE}", "first"))  # fmt: skip
    try:
        report = await core_file.campaign_links(info.context.require_actor(), campaign_id, status, first, after)
    except DomainError as error:
        raise query_error(error) from None
    return CoreFileLinks.of(report)
