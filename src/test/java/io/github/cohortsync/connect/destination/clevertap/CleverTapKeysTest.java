package io.github.cohortsync.connect.destination.clevertap;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class CleverTapKeysTest {

    private static Map<String, String> clevertap() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "clevertap");
        props.put("clevertap.account.id", "ACC-1");
        props.put("clevertap.passcode", "PASS-s3cret");
        return props;
    }

    @Test
    void aMinimalConfigIsValidWithTheDocumentedDefaults() {
        assertThat(keyErrors(clevertap())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(clevertap());
        assertThat(config.destination()).isInstanceOf(CleverTapProvider.class);
        assertThat(config.getString(CleverTapKeys.REGION)).isEqualTo("eu1");
        assertThat(config.getString(CleverTapKeys.ENDPOINT)).isNull();
        assertThat(config.batchMaxSize()).isEqualTo(500);
    }

    @Test
    void accountIdAndPasscodeAreRequiredOnlyForCleverTap() {
        Map<String, String> props = clevertap();
        props.remove("clevertap.account.id");
        props.remove("clevertap.passcode");
        Map<String, List<String>> errors = keyErrors(props);
        assertThat(errors.get("clevertap.account.id")).singleElement().asString()
                .contains("clevertap.account.id is required when destination=clevertap");
        assertThat(errors.get("clevertap.passcode")).singleElement().asString()
                .contains("clevertap.passcode is required when destination=clevertap");

        Map<String, String> webhook = new HashMap<>();
        webhook.put("destination", "webhook");
        webhook.put("webhook.url", "https://hooks.example.com/cohorts");
        assertThat(keyErrors(webhook)).isEmpty();
    }

    @Test
    void anUnknownRegionListsTheValidOnes() {
        Map<String, String> props = clevertap();
        props.put("clevertap.region", "eu2");
        assertThat(keyErrors(props).get("clevertap.region")).singleElement().asString()
                .contains("eu1").contains("in1").contains("sg1").contains("us1").contains("aps3").contains("mec1");

        props.put("clevertap.region", "IN1");
        assertThat(keyErrors(props)).isEmpty();
    }

    @Test
    void batchSizeIsAtMost500MembersSoAPageFitsOneCall() {
        Map<String, String> props = clevertap();
        props.put("batch.max.size", "501");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("clevertap accepts at most 500 members per call");
    }

    @Test
    void theEndpointMustBeAUrlAndThePasscodeIsAPassword() {
        Map<String, String> props = clevertap();
        props.put("clevertap.endpoint", "ftp://x");
        assertThat(keyErrors(props)).containsKey("clevertap.endpoint");
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("clevertap.passcode").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(new CohortSyncConfig(clevertap()).toString()).doesNotContain("PASS-s3cret");
    }
}
