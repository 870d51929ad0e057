"""Spark: the same trace SQL on a cluster (the ``spark`` extra).

Only imported when asked for, so the default install needs no Java.
"""

from __future__ import annotations

import os

import pyarrow as pa

from unmask.engines.base import Engine, register_engine


class SparkEngine(Engine):
    """PySpark SQL.

    ``master`` is a cluster URL (``spark://…``, ``yarn``, ``k8s://…``); without it, ``SPARK_REMOTE``
    in the environment selects a Spark Connect server, and otherwise a local session on every core
    (``local[*]``) is started.
    """

    name = "spark"

    def __init__(self, master=None, app_name="unmask", config=None):
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the extra
            from unmask.errors import UnmaskError

            raise UnmaskError("the spark engine needs the extra: pip install 'unmask[spark]'") from exc
        remote = None if master else os.environ.get("SPARK_REMOTE")
        builder = SparkSession.builder.remote(remote) if remote else SparkSession.builder.master(master or "local[*]")
        self.master = remote or master or "local[*]"
        builder = (
            builder
            .appName(app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        )
        for key, value in (config or {}).items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()
        if not remote:  # a Connect client has no SparkContext; its server keeps its own log level
            self.spark.sparkContext.setLogLevel("ERROR")

    def register(self, name, table):
        """An Arrow table from the driver (small ones: a trace's candidate pairs, shifts); the input
        tables come through :meth:`register_dataset` instead. Arrow goes to Spark as it is, with
        integers widened to the 64 bits Spark's SQL gives them (timestamps as UTC)."""
        def widen(t):
            if pa.types.is_integer(t):
                return pa.int64()
            if pa.types.is_floating(t):
                return pa.float64()
            if pa.types.is_timestamp(t):
                return pa.timestamp("us", tz="UTC")
            if pa.types.is_list(t) or pa.types.is_large_list(t):
                return pa.list_(widen(t.value_type))
            return t

        table = table.cast(pa.schema([pa.field(f.name, widen(f.type)) for f in table.schema]))
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name):
        self.spark.catalog.dropTempView(name)

    def register_dataset(self, name, location, schema):
        """Read the Parquet dataset where it lies (a local folder, ``hdfs://``, ``s3a://``, …):
        nothing passes through the driver. Partition values are read as strings, and each column
        is cast to the case's type (DuckDB writes timestamps without a zone; the session is UTC)."""
        df = (self.spark.read.option("basePath", str(location))
              .parquet(str(location)))
        target = _spark_schema(schema)
        df = df.select([df[f.name].cast(f.dataType).alias(f.name) for f in target.fields])
        df.createOrReplaceTempView(name)

    def query(self, sql, params=None) -> pa.Table:
        df = self.spark.sql(sql)
        if hasattr(df, "toArrow"):
            return df.toArrow()
        return pa.Table.from_pandas(df.toPandas(), preserve_index=False)

    def execute(self, sql, params=None):
        self.spark.sql(sql).collect()

    def create_table(self, name, sql):
        """Computed now and kept (a local checkpoint): the next statement reads the rows, not the
        plan that made them. A trace builds a chain of some thirty such tables; left as cached
        lazy views, every statement re-planned the whole chain, and a 50k-post trace took twice as
        long. The blocks go when the view is dropped and the JVM collects the plan."""
        self.spark.sql(sql).localCheckpoint(eager=True).createOrReplaceTempView(name)

    def drop(self, name):
        self.spark.catalog.dropTempView(name)

    def explode_range(self, expr):
        return f"explode(sequence(1, {expr}))"

    def explode(self, expr):
        return f"explode({expr})"

    def regexp_replace_all(self, expr, pattern, repl):
        return f"regexp_replace({expr}, {pattern}, {repl})"

    def sorted_join(self, expr, sep):
        return f"array_join(array_sort({expr}), {sep})"

    def lower_list(self, expr):
        return f"transform({expr}, h -> lower(h))"

    def list_len(self, expr):
        return f"size({expr})"

    def epoch_ms(self, expr):
        return f"unix_millis({expr})"

    def close(self):
        self.spark.catalog.clearCache()


def _spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    def convert(t):
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return T.ArrayType(convert(t.value_type))
        if pa.types.is_integer(t):
            return T.LongType()
        if pa.types.is_floating(t):
            return T.DoubleType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        if pa.types.is_timestamp(t):
            return T.TimestampType()
        return T.StringType()

    return T.StructType([T.StructField(f.name, convert(f.type), True) for f in schema])


register_engine("spark", SparkEngine)
