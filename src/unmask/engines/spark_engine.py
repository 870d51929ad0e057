"""Spark: the same trace SQL on a cluster (the ``spark`` extra).

Only imported when asked for, so the default install needs no Java.
"""

from __future__ import annotations

import inspect
import itertools
import os
import shutil
import tempfile
import weakref
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.parquet as pq

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
            # scratch files (large results) keep timestamps as UTC microseconds, as toArrow gives them
            .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        )
        config = dict(config or {})
        # partitions asked for by the caller are kept; otherwise :meth:`size_for` scales them
        self._fixed_partitions = "spark.sql.shuffle.partitions" in config
        if not remote:  # a driver out of heap stops, instead of hanging in a job that never ends
            config.setdefault("spark.driver.extraJavaOptions", "-XX:+ExitOnOutOfMemoryError")
        for key, value in config.items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()
        # checkpoints on disk (see create_table), where PySpark takes a storage level (4; not 3.5)
        from pyspark import StorageLevel
        from pyspark.sql import DataFrame

        self._checkpoint = ({"storageLevel": StorageLevel.DISK_ONLY}
                            if "storageLevel" in inspect.signature(DataFrame.localCheckpoint).parameters else {})
        self._scratch = None  # where large registered tables and results are written (local mode)
        self._files = itertools.count()
        # the session's own master: under spark-submit it is the cluster's, whatever was asked for
        self.local = not remote and self.spark.sparkContext.master.startswith("local")
        if not remote:  # a Connect client has no SparkContext; its server keeps its own log level
            self.spark.sparkContext.setLogLevel("ERROR")

    in_memory_rows = 100_000  # larger registered tables go through a Parquet file (local mode)

    def register(self, name, table):
        """An Arrow table from the driver (a trace's candidate pairs, shifts, near-duplicate
        groups); the input tables come through :meth:`register_dataset` instead. Arrow goes to
        Spark as it is, with integers widened to the 64 bits Spark's SQL gives them (timestamps as
        UTC). In local mode a table of more than :attr:`in_memory_rows` rows is written to a
        Parquet file in a scratch folder (removed by :meth:`close`) and read from there, so it
        takes no driver heap; on a cluster, whose executors cannot read the driver's disk, it
        goes through the driver's memory."""
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
        if table.num_rows > self.in_memory_rows and self.local:
            # createDataFrame keeps the Arrow batches in the driver's heap for as long as the view
            # lives, outside the memory Spark manages: a 3M-post case's near-duplicate groups
            # left too little heap for the next sort, which ran out instead of spilling
            # (a name starting with _ would be a hidden file to Spark)
            path = os.path.join(self._scratch_folder(), f"t{next(self._files)}{name}.parquet")
            pq.write_table(table, path)
            self.spark.read.parquet(path).createOrReplaceTempView(name)
        else:
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

    def query_batches(self, sql, rows):
        """In local mode the result is written by Spark's tasks to Parquet in the scratch folder,
        then read from there in batches of ``rows`` rows and removed: nothing passes through the
        JVM's heap. Fetching the result whole held every normalised text of a 3M-post case in the
        driver's 1 GB heap and ran it out; PySpark's Arrow stream (partition by partition) left
        some 580 MB of that heap taken after it ended, and the next join ran it out. On a cluster,
        whose files the driver may not see, the result is fetched whole."""
        if not self.local:
            yield from super().query_batches(sql, rows)
            return
        with self._through_files(sql) as data:
            yield from data.to_batches(batch_size=rows)

    def fetch(self, sql):
        """A large result, through files in local mode as in :meth:`query_batches` (a 3M-post
        co_retweet's edges, fetched by ``toArrow``, ran the 1 GB driver heap out). The part files
        are read in their order, which is the order of an ``ORDER BY``."""
        if not self.local:
            return self.query(sql)
        with self._through_files(sql) as data:
            return data.to_table()

    @contextmanager
    def _through_files(self, sql):
        """The result of ``sql``, written by Spark's tasks to a new folder in the scratch folder, as
        a pyarrow dataset of its part files in part order (its partitions' order; an empty result
        may have none) with the result's schema; the folder is removed afterwards."""
        import pyarrow.dataset as ds
        from pyspark.sql.pandas.types import to_arrow_schema

        folder = os.path.join(self._scratch_folder(), f"q{next(self._files)}")
        df = self.spark.sql(sql)
        df.write.parquet(folder)
        try:
            parts = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("part-"))
            yield ds.dataset(parts, schema=to_arrow_schema(df.schema, timezone="UTC"), format="parquet")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _scratch_folder(self):
        """Made when first needed; removed on :meth:`close`, when the engine is collected, or when
        Python exits (a run stopped by an error, such as a driver out of heap, left it in /tmp)."""
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="unmask-spark-")
            self._remove_scratch = weakref.finalize(self, shutil.rmtree, self._scratch, ignore_errors=True)
        return self._scratch

    def execute(self, sql, params=None):
        self.spark.sql(sql).collect()

    #: posts per shuffle partition above the first :data:`min_partitions` (see :meth:`size_for`)
    posts_per_partition = 250_000
    min_partitions = 8

    def size_for(self, posts):
        """Shuffle partitions grow with the case: 8 up to 2M posts, then one per 250,000 posts
        (40 at 10M), so that each task sorts and windows a bounded share of the pairs. With 8
        fixed (and checkpoints in memory), a 10M run ran a 1 GB driver heap out; with both changed
        it finishes. Partitions the caller set in ``config`` are left as they are."""
        if self._fixed_partitions or not posts:
            return
        wanted = max(self.min_partitions, -(-int(posts) // self.posts_per_partition))
        self.spark.conf.set("spark.sql.shuffle.partitions", str(wanted))

    def create_table(self, name, sql):
        """Computed now and kept (a local checkpoint): the next statement reads the rows, not the
        plan that made them. A trace builds a chain of some thirty such tables; left as cached
        lazy views, every statement re-planned the whole chain, and a 50k-post trace took twice as
        long. The blocks are kept on disk, not in the heap (PySpark 4 takes a storage level; 3.5
        keeps them in memory and spills): at 1M posts co_retweet ran some 12% faster so, at the same
        peak memory. The blocks go when the view is dropped and the JVM collects the plan."""
        self.spark.sql(sql).localCheckpoint(eager=True, **self._checkpoint).createOrReplaceTempView(name)

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
        """Forget cached tables and remove the scratch folder (the folder even when the JVM has
        gone, as after a driver out of heap)."""
        try:
            self.spark.catalog.clearCache()
        finally:
            if self._scratch is not None:
                self._remove_scratch()
                self._scratch = None


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
