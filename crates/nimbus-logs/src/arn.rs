//! Log group and stream ARNs: `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`
//! (DescribeLogGroups' `arn` adds `:*`, as AWS does).

/// `logGroupArn`: the ARN without the trailing `:*`.
pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}

pub fn stream_arn(region: &str, account: &str, group: &str, stream: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}")
}

/// The parts of a log group ARN (`:*` suffix allowed): (region, account, name).
pub fn parse_group_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let _partition = parts.next()?;
    if parts.next()? != "logs" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    if parts.next()? != "log-group" {
        return None;
    }
    let name = parts.next()?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (!name.is_empty() && !name.contains(':')).then_some((region, account, name))
}

/// The group name inside a log group ARN, if `ident` is one.
pub fn group_name_of(ident: &str) -> Option<&str> {
    parse_group_arn(ident).map(|(_, _, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_arns_parse() {
        assert_eq!(
            parse_group_arn("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*"),
            Some(("us-east-1", "000000000000", "/aws/lambda/f"))
        );
        assert_eq!(
            parse_group_arn("arn:aws:logs:eu-west-1:1:log-group:g"),
            Some(("eu-west-1", "1", "g"))
        );
        assert_eq!(parse_group_arn("arn:aws:sqs:us-east-1:1:q"), None);
        assert_eq!(parse_group_arn("g"), None);
        assert_eq!(
            parse_group_arn("arn:aws:logs:r:1:log-group:g:log-stream:s"),
            None
        );
    }
}
