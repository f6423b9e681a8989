package io.github.cohortsync.connect.destination.segment;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class SegmentKeysTest {

    private static Map<String, String> segment() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "segment");
        props.put("segment.write.key", "wk-s3cret");
        return props;
    }

    @Test
    void aMinimalSegmentConfigIsValidAndTakesTheDocumentedDefaults() {
        assertThat(keyErrors(segment())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(segment());

        assertThat(config.destination()).isInstanceOf(SegmentProvider.class);
        assertThat(config.batchMaxSize()).isEqualTo(1000);
        assertThat(config.getString(SegmentKeys.REGION)).isEqualTo("us");
        assertThat(config.getString(SegmentKeys.USER_ID_FIELD)).isEqualTo("distinct_id");
        assertThat(config.getString(SegmentKeys.TRAIT_NAME_TEMPLATE)).isEqualTo("Mixpanel - ${cohort_name}");
        assertThat(config.getString(SegmentKeys.ENDPOINT)).isNull();
    }

    @Test
    void theWriteKeyIsRequiredOnlyForSegment() {
        Map<String, String> props = segment();
        props.remove("segment.write.key");
        assertThat(keyErrors(props).get("segment.write.key")).singleElement().asString()
                .contains("segment.write.key is required when destination=segment");
        assertThatThrownBy(() -> new CohortSyncConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("segment.write.key is required");

        Map<String, String> webhook = Map.of("destination", "webhook", "webhook.url", "https://hooks.example.com/x");
        assertThat(keyErrors(webhook)).isEmpty();
    }

    @Test
    void anUnknownRegionListsTheValidOnes() {
        Map<String, String> props = segment();
        props.put("segment.region", "apac");
        assertThat(keyErrors(props).get("segment.region")).singleElement().asString().contains("us, eu");

        props.put("segment.region", "eu");
        assertThat(keyErrors(props)).isEmpty();
    }

    @Test
    void templatesWithUnknownPlaceholdersAndBadEndpointsAreRejected() {
        Map<String, String> props = segment();
        props.put("segment.trait.name.template", "Mixpanel - ${cohort}");
        assertThat(keyErrors(props).get("segment.trait.name.template")).singleElement().asString()
                .contains("unknown placeholders [cohort]").contains("${cohort_name}");

        props = segment();
        props.put("segment.endpoint", "ftp://segment.local");
        assertThat(keyErrors(props)).containsKey("segment.endpoint");

        props.put("segment.endpoint", "http://127.0.0.1:8080/segment");
        assertThat(keyErrors(props)).isEmpty();
    }

    @Test
    void theBatchSizeIsCappedAtOneThousand() {
        Map<String, String> props = segment();
        props.put("batch.max.size", "1001");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("segment accepts at most 1000 members per call");
    }

    @Test
    void theWriteKeyIsAPassword() {
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("segment.write.key").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(new CohortSyncConfig(segment()).toString()).doesNotContain("wk-s3cret");
    }
}
