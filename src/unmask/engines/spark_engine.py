"""Spark: the same trace SQL on a cluster (the ``spark`` extra).

Only imported when asked for, so the default install needs no Java.
"""

from __future__ import annotations

import pyarrow as pa

from unmask.engines.base import Engine, register_engine


class SparkEngine(Engine):
    """PySpark SQL. ``master`` defaults to a local session; pass a cluster URL to scale out."""

    name = "spark"

    def __init__(self, master="local[2]", app_name="unmask", config=None):
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the extra
            from unmask.errors import UnmaskError

            raise UnmaskError("the spark engine needs the extra: pip install 'unmask[spark]'") from exc
        builder = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
        )
        for key, value in (config or {}).items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")

    def register(self, name, table):
        df = self.spark.createDataFrame(table.to_pandas(), schema=_spark_schema(table.schema))
        df.createOrReplaceTempView(name)

    def query(self, sql, params=None) -> pa.Table:
        df = self.spark.sql(sql)
        if hasattr(df, "toArrow"):
            return df.toArrow()
        return pa.Table.from_pandas(df.toPandas(), preserve_index=False)

    def execute(self, sql, params=None):
        self.spark.sql(sql).collect()

    def create_table(self, name, sql):
        self.spark.sql(sql).cache().createOrReplaceTempView(name)

    def drop(self, name):
        if self.spark.catalog.tableExists(name):
            self.spark.catalog.uncacheTable(name)
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
