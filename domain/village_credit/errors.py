"""The codes of whole-village credit errors (整村授信), beside the shared ones (domain.errors.ErrorCode) and the
customer checks' (domain.customers.errors.CustomerErrorCode) that a household survey's fields go through."""

from __future__ import annotations

from enum import StrEnum


class VillageCreditErrorCode(StrEnum):
    # the campaign (整村授信活动) and its process
    WRONG_STATE = "WRONG_STATE"
    WRONG_ROLE = "WRONG_ROLE"
    SEPARATION_OF_DUTIES = "SEPARATION_OF_DUTIES"
    COLLECTOR_NOT_ELIGIBLE = "COLLECTOR_NOT_ELIGIBLE"
    REVIEWER_NOT_ELIGIBLE = "REVIEWER_NOT_ELIGIBLE"
    # household surveys (入户调查) sent from the app
    NOT_COLLECTING = "NOT_COLLECTING"
    NOT_A_COLLECTOR = "NOT_A_COLLECTOR"
    TOO_MANY_SURVEYS = "TOO_MANY_SURVEYS"
    CLIENT_ID_REUSED = "CLIENT_ID_REUSED"
    NO_HEAD = "NO_HEAD"
    TWO_HEADS = "TWO_HEADS"
    HEAD_UNDER_18 = "HEAD_UNDER_18"
    AGE_MISMATCH = "AGE_MISMATCH"
    MEMBER_LISTED_TWICE = "MEMBER_LISTED_TWICE"
    MEMBER_IN_ANOTHER_HOUSEHOLD = "MEMBER_IN_ANOTHER_HOUSEHOLD"
    HOUSEHOLD_ALREADY_SURVEYED = "HOUSEHOLD_ALREADY_SURVEYED"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
    INVALID_PHOTO = "INVALID_PHOTO"
    INVALID_SURVEY_TIME = "INVALID_SURVEY_TIME"
    SURVEY_CONFLICT = "SURVEY_CONFLICT"
    # call-backs and signing (电话回访、签约)
    NO_PHONE = "NO_PHONE"
    INVALID_RATING = "INVALID_RATING"
    # screening (筛查), limit reviews (初审/复核/审批) and the published list (张榜公示)
    NOT_SCREENED = "NOT_SCREENED"
    NOT_A_WHITE_HOUSEHOLD = "NOT_A_WHITE_HOUSEHOLD"
    LIMIT_OUT_OF_RANGE = "LIMIT_OUT_OF_RANGE"
    ADJUSTMENT_PENDING = "ADJUSTMENT_PENDING"
    ADJUSTMENTS_WAITING = "ADJUSTMENTS_WAITING"
    NOT_THE_CHECKER = "NOT_THE_CHECKER"
    OWN_ADJUSTMENT = "OWN_ADJUSTMENT"
    ADJUSTMENT_DECIDED = "ADJUSTMENT_DECIDED"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    # the duplicate queue (查重)
    DUPLICATE_ALREADY_DECIDED = "DUPLICATE_ALREADY_DECIDED"
    SURVEY_ALREADY_MERGED = "SURVEY_ALREADY_MERGED"
    # the core-banking customer file and the court enforcement list, imported from CSV
    FEED_UNREADABLE = "FEED_UNREADABLE"
    FEED_MISSING_COLUMN = "FEED_MISSING_COLUMN"
    FEED_ROWS_INVALID = "FEED_ROWS_INVALID"
