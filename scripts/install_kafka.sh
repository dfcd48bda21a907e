#!/usr/bin/env bash
# Installs an Apache Kafka broker for the real-cluster tests (tests/integration/kafka_real) from
# Maven Central's org.apache.kafka artifacts only: a generated pom, `mvn dependency:copy-dependencies`
# into .cache/kafka/<version>/libs, run later with the machine's Java 17 in KRaft mode
# (kafka.Kafka; storage formatted by kafka.tools.StorageTool; topics by TopicCommand).
# Safe to run again: a complete install is kept (its stamp is the pom's hash).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${TOLLGATE_KAFKA_VERSION:-4.1.1}
log4j=2.24.3
dir=.cache/kafka/$version
want=$(printf '%s %s' "$version" "$log4j" | sha256sum | cut -d' ' -f1)
if [[ -f $dir/.complete && "$(cat "$dir/.complete")" == "$want" ]]; then
  exit 0
fi
echo "setup: Apache Kafka $version from Maven Central into $dir"
rm -rf "$dir"
mkdir -p "$dir"
cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tollgate</groupId>
  <artifactId>tollgate-test-kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- The broker (kafka.Kafka, kafka.tools.StorageTool) and the topic tool. -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <!-- The broker logs through SLF4J 1.7: without a binding its logs would be lost. -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$log4j</version></dependency>
  </dependencies>
</project>
POM
mvn -q -B -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$PWD/$dir/libs"
echo "$want" >"$dir/.complete"
