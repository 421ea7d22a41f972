"""The function allowlist of the guard.

Only functions named here may appear in a query. Two kinds of names:

* ``SQLGLOT_KEYS``: sqlglot's typed function nodes (``exp.Sum.key == "sum"``) that the ClickHouse
  dialect produces for safe ClickHouse functions (a key admits every ClickHouse name sqlglot
  parses into that node: ``pad`` is ``leftPad``, ``lpad``, ``rightPad`` and ``rpad``);
* ``CLICKHOUSE_FUNCTIONS``: ClickHouse function names that sqlglot keeps as anonymous calls,
  compared case-insensitively; an aggregate of ``AGGREGATES`` may also carry up to three of the
  combinators -If, -Array, -Distinct, -OrNull, -OrDefault and -ForEach (``sumIf``, ``maxArray``).

``REFUSED`` says why each notable refused function is refused; a refusal's message says it.

What is *not* here is refused, on purpose: everything that reaches files, the network, other
databases or servers (``file``, ``url``, ``s3``, ``remote``, ``mysql``, ``postgresql``,
``merge``, ``view``, ``mergeTreeIndex``, ``hasColumnInTable``), dictionaries (``dictGet*``,
``joinGet``), the process (``Python``, ``getSetting``, ``currentUser``, ``hostName``,
``getMacro``, ``globalVariable``), the functional forms of IN (``in``, ``notIn``, ``globalIn``,
``nullIn``: ``notIn(x, db.table)`` reads a table by name), time bombs (``sleep``,
``sleepEachRow``) and generators of huge data (``numbers``, ``zeros``, ``range``, ``repeat``,
``arrayWithConstant``, ``generateRandom``, ``randomString``), and functions whose cost grows
with the square of their input, which ClickHouse cannot stop in the middle of a block
(``editDistance``/``levenshteinDistance``: a few 2,000-character strings ran 17 s past a 2 s
``max_execution_time``). A function the list does not know is refused too: the guard fails
closed, and a new safe function is added here with a test case in ``allow.sql``.

Everything else that costs grows with its input, and the workspace's limits bound the input:
``max_memory_usage`` bounds ``groupArray`` and long strings (ClickHouse caps ``leftPad`` at
1,000,000 characters), ``max_execution_time``, checked between blocks of ``max_block_size``
rows, bounds the time, and ``max_rows_to_read`` / ``max_bytes_to_read`` what is read.
"""

from __future__ import annotations

SQLGLOT_KEYS = frozenset(
    """
    sum avg count countif min max median quantile quantiles approxquantile argmax argmin
    stddev stddevpop stddevsamp variance variancepop corr covarpop covarsamp
    approxdistinct arrayagg arrayuniqueagg anyvalue first last groupconcat
    rownumber rank denserank ntile percentrank cumedist lag lead firstvalue lastvalue nthvalue
    abs round floor ceil sqrt pow ln log exp sign greatest least
    coalesce nullif if case
    concat concatws lower upper length substring trim ltrim rtrim replace left right lpad rpad
    strposition startswith endswith reverse initcap regexpextract regexplike regexpreplace
    split splitpart md5 sha sha2
    timestamptrunc datetrunc datediff dateadd datesub timetostr strtotime strtodate tsordstodate
    todate year month day quarter week dayofweek dayofmonth dayofyear hour minute second
    currentdate currenttimestamp lastday monthsbetween
    array arraysize arraycontains arraysum arrayfilter arrayconcat arrayjoin arraytostring
    arrayfirst arraylast arrayreverse arraysort arraydistinct explode transform
    toarray tuple struct
    exists extract pad format hex unhex typeof trunc cbrt pi isnan isinf parsedatetime monthname
    dayofweekiso weekofyear regexpsplit regexpcount md5digest cityhash64 varmap
    arraymin arraymax arrayslice arraycompact jsonextract jsonextractscalar
    """.split()
)

CLICKHOUSE_FUNCTIONS = frozenset(
    name.lower()
    for name in """
    count sum avg min max any anyLast anyHeavy argMin argMax uniq uniqExact uniqCombined uniqHLL12
    uniqTheta groupArray groupUniqArray groupArraySorted topK topKWeighted quantile quantiles
    quantileExact quantileExactWeighted quantileTiming quantileTDigest quantilesExact median
    medianExact varPop varSamp stddevPop stddevSamp covarPop covarSamp corr skewPop kurtPop
    sumIf avgIf minIf maxIf countIf uniqIf uniqExactIf anyIf argMaxIf argMinIf groupArrayIf
    quantileIf sumMap minMap maxMap sumArray avgArray sumDistinct countDistinct
    simpleLinearRegression entropy deltaSum rankCorr avgWeighted uniqCombined64 groupArrayMovingSum
    groupArrayMovingAvg quantileTDigestWeighted quantilesTDigest quantileDeterministic
    toTimeZone toUnixTimestamp fromUnixTimestamp toYearWeek toStartOfTenMinutes addMinutes addSeconds
    subtractHours subtractMinutes toIntervalHour toIntervalMinute toIntervalSecond
    formatReadableSize formatReadableQuantity formatReadableTimeDelta countEqual arrayProduct ifNotFinite
    rand rand32 rand64 randCanonical generateUUIDv4
    row_number rank dense_rank percent_rank cume_dist ntile lag lead lagInFrame leadInFrame
    first_value last_value nth_value
    abs round roundBankers roundDown roundToExp2 floor ceil ceiling trunc truncate sqrt cbrt exp exp2
    exp10 log ln log2 log10 log1p pow power sign greatest least intDiv intDivOrZero modulo
    moduloOrZero plus minus multiply divide negate gcd lcm e pi isNaN isFinite isInfinite
    if multiIf ifNull nullIf coalesce assumeNotNull toNullable isNull isNotNull isZeroOrNull
    equals notEquals less greater lessOrEquals greaterOrEquals and or not xor
    toInt8 toInt16 toInt32 toInt64 toUInt8 toUInt16 toUInt32 toUInt64 toFloat32 toFloat64
    toInt32OrNull toInt64OrNull toFloat64OrNull toDecimal32 toDecimal64 toDecimal128
    toDecimal64OrNull toString toFixedString toDate toDate32 toDateTime toDateTime64
    toDateOrNull toDateTimeOrNull toDateTime64OrNull toBool toUUID toTypeName
    parseDateTimeBestEffort parseDateTimeBestEffortOrNull parseDateTime parseDateTimeOrNull
    toYear toQuarter toMonth toWeek toISOWeek toISOYear toDayOfMonth toDayOfWeek toDayOfYear
    toHour toMinute toSecond toYYYYMM toYYYYMMDD toMonday toStartOfYear toStartOfQuarter
    toStartOfMonth toStartOfWeek toStartOfISOYear toStartOfDay toStartOfHour toStartOfMinute
    toStartOfFiveMinutes toStartOfFifteenMinutes toStartOfInterval toLastDayOfMonth
    toRelativeYearNum toRelativeMonthNum toRelativeWeekNum toRelativeDayNum date_trunc dateTrunc
    dateDiff date_diff dateAdd date_add dateSub date_sub addDays addWeeks addMonths addQuarters
    addYears addHours subtractDays subtractWeeks subtractMonths subtractQuarters subtractYears
    age today yesterday now now64 formatDateTime monthName dateName timeSlot
    toIntervalDay toIntervalMonth toIntervalYear toIntervalWeek toIntervalQuarter
    length lengthUTF8 char_length empty notEmpty lower upper lowerUTF8 upperUTF8 reverse
    reverseUTF8 concat concatWithSeparator substring substr substringUTF8 left right leftUTF8
    rightUTF8 trim trimLeft trimRight trimBoth ltrim rtrim leftPad rightPad lpad rpad
    position positionCaseInsensitive positionUTF8 locate startsWith endsWith like notLike ilike
    notILike match extract extractAll replace replaceAll replaceOne replaceRegexpOne
    replaceRegexpAll splitByChar splitByString splitByRegexp splitByWhitespace arrayStringConcat
    format base64Encode base64Decode hex unhex lowerUTF8 normalizeUTF8NFC initcap initcapUTF8
    countSubstrings countMatches ngramDistance
    MD5 SHA1 SHA256 cityHash64 sipHash64 xxHash64 murmurHash3_64
    array arrayElement has hasAll hasAny indexOf arrayCount arraySum arrayAvg arrayMin arrayMax
    arrayMap arrayFilter arrayExists arrayAll arrayFirst arrayLast arraySort arrayReverseSort
    arrayDistinct arrayUniq arrayEnumerate arrayConcat arraySlice arrayPushBack arrayPushFront
    arrayCompact arrayZip arrayFlatten arrayIntersect arrayReduce arrayCumSum arrayDifference
    arrayStringConcat arrayJoin emptyArrayString length notEmpty tuple tupleElement untuple
    mapKeys mapValues mapContains map JSONExtract JSONExtractString JSONExtractInt
    JSONExtractFloat JSONExtractBool JSONHas JSONLength JSONExtractRaw visitParamExtractString
    bitAnd bitOr bitXor bitNot bitShiftLeft bitShiftRight
    greatCircleDistance geoDistance
    """.split()
)


# Why the notable refusals are refused: the message of a refusal says it (keys are lower case;
# the sqlglot key of a typed node, or the ClickHouse name).
_FILES = "it reads or writes files on the server"
_NETWORK = "it reaches other servers over the network"
_OTHER_DB = "it reads tables by a name the guard cannot confine to the workspace"
_SERVER = "it reads the server's settings, users or state"
_WAITS = "it makes the server wait"
_MAKES_ROWS = "it makes up data of any size, which no table bounds"
_QUADRATIC = "its cost grows with the square of its input and ClickHouse cannot stop it mid-block"
REFUSED: dict[str, str] = {
    **dict.fromkeys(["file", "filecluster", "input", "executable", "python"], _FILES),
    **dict.fromkeys(["url", "urlcluster", "s3", "s3cluster", "gcs", "azureblobstorage", "hdfs", "remote",
                     "remotesecure", "cluster", "clusterallreplicas", "mysql", "postgresql", "mongodb",
                     "redis", "sqlite", "jdbc", "odbc", "iceberg", "deltalake", "hudi"], _NETWORK),
    **dict.fromkeys(["merge", "view", "mergetreeindex", "hascolumnintable", "dictget", "dictgetordefault",
                     "dictgetornull", "dicthas", "dictgetstring", "dictgethierarchy", "dictisin",
                     "dictionary", "joinget", "joingetornull", "in", "notin", "globalin", "globalnotin",
                     "nullin", "notnullin"], _OTHER_DB),
    **dict.fromkeys(["getsetting", "getsettingordefault", "getserversetting", "currentuser", "user",
                     "currentdatabase", "database", "currentschemas", "currentprofiles", "currentroles",
                     "enabledroles", "defaultroles", "hostname", "fqdn", "version", "uptime", "serveruuid",
                     "getmacro", "globalvariable", "tcpport", "buildid", "filesystemavailable",
                     "filesystemcapacity", "filesystemunreserved", "getoskernelversion", "queryid",
                     "initialqueryid", "currentqueryid", "getclienthttpheader", "shardnum", "shardcount",
                     "zookeepersessionuptime", "trap", "addresstoline", "addresstosymbol", "demangle"], _SERVER),
    **dict.fromkeys(["sleep", "sleepeachrow"], _WAITS),
    **dict.fromkeys(["numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries",
                     "generaterandom", "range", "repeat", "arraywithconstant", "arrayresize", "randomstring",
                     "randomfixedstring", "randomprintableascii", "randomstringutf8", "fuzzbits", "fuzzjson",
                     "replicate"], _MAKES_ROWS),
    **dict.fromkeys(["levenshtein", "editdistance", "levenshteindistance", "editdistanceutf8",
                     "damerauLevenshteinDistance".lower(), "jarowinklersimilarity", "stringjaccardindex",
                     "stringjaccardindexutf8"], _QUADRATIC),
}


def refusal_reason(name: str) -> str | None:
    """Why ``name`` (a ClickHouse name or a sqlglot key) is refused, for the notable refusals."""
    return REFUSED.get(name.lower())


# Aggregate functions of the list above that may carry combinators (sumIf, maxArray, uniqExactIf,
# avgOrNull, countDistinctIf, sumForEach): the suffixes that filter, unroll or default an
# aggregate. -State, -Merge and -SimpleState (opaque states), -Resample (it makes up buckets of
# any number) and the rest are refused.
AGGREGATES = frozenset(
    name.lower()
    for name in """
    count sum avg min max any anyLast anyHeavy argMin argMax uniq uniqExact uniqCombined uniqCombined64
    uniqHLL12 uniqTheta groupArray groupUniqArray groupArraySorted topK topKWeighted quantile quantiles
    quantileExact quantileExactWeighted quantileTiming quantileTDigest quantilesExact quantileTDigestWeighted
    quantilesTDigest quantileDeterministic median medianExact varPop varSamp stddevPop stddevSamp covarPop
    covarSamp corr skewPop kurtPop entropy deltaSum rankCorr avgWeighted simpleLinearRegression
    countDistinct sumDistinct groupArrayMovingSum groupArrayMovingAvg
    """.split()
)
COMBINATORS = ("if", "array", "distinct", "ornull", "ordefault", "foreach")


def _combined_aggregate(name: str) -> bool:
    """``name`` (lower case) is an allowed aggregate with up to three allowed combinators."""
    for _ in range(3):
        for suffix in COMBINATORS:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
        else:
            return False
        if name in AGGREGATES:
            return True
    return False


def function_allowed(name: str, *, anonymous: bool) -> bool:
    """Whether a function node may appear: ``name`` is the ClickHouse name (anonymous) or key."""
    if anonymous:
        lower = name.lower()
        return lower in CLICKHOUSE_FUNCTIONS or _combined_aggregate(lower)
    return name in SQLGLOT_KEYS
