with

source as (

    select * from {{ source('erp', 'gl_accounts') }}

),

deduplicated as (

    {{ deduplicate('source', 'gl_account', 'last_change_date_time desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        gl_account as account_code,
        financial_statement_item as statement_line_code,

        ---------- text
        gl_account_name as account_name,
        gl_account_type as account_type,

        ---------- booleans
        cast(is_intercompany as boolean) as is_intercompany,

        ---------- timestamps
        last_change_date_time as last_changed_at

    from deduplicated

)

select * from renamed
